"""Delivery from the outbox to a local receiver, verified with `standardwebhooks` as a real
receiver would: the entity as the API returns it, only the owner's events, retries on the
(compressed) schedule, Retry-After (seconds or an HTTP date), 410 and a long failing streak
disabling the endpoint, pings and retries by hand, an answer far longer than the worker reads,
a stalled endpoint beside a quick one. The tests' clock is set to the wall clock: receivers
check the timestamp."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.state import app_state
from app.webhooks import outbox
from app.webhooks.worker import WebhookWorker
from tests.support.clock import CLOCK, wall_now
from tests.support.helpers import ALICE, BOB, auth, create_task
from tests.support.webhook_receiver import Receiver, running_receiver
from tests.webhooks.helpers import StubResolver, create_webhook, rows

DEADLINE_SECONDS = 30  # bounded waits, then fail
ALL_TASK_TYPES = ["task.created", "task.updated", "task.completed", "task.deleted"]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "webhook_allow_private_targets": True,
        "webhook_retry_schedule_seconds": [10, 20],
        "webhook_disable_after_seconds": 3600,
    }


@pytest.fixture(autouse=True)
def wall_clock() -> None:
    CLOCK.set(wall_now())


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as started:
        yield started


@pytest.fixture
async def worker(app: FastAPI) -> AsyncIterator[WebhookWorker]:
    state = app_state(app)
    started = WebhookWorker(state.database, state.settings, StubResolver())
    yield started
    await started.close()


def verified(secret: str, received: Any) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


async def test_each_change_arrives_signed_with_the_entity_as_the_api_returns_it(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(client, url=receiver.url(), event_types=ALL_TASK_TYPES)
    task = await create_task(client, title="Hear it")
    url = f"/api/tasks/{task['id']}"
    completed = (await client.put(url, json={"is_completed": True}, headers=auth(ALICE))).json()
    await client.delete(url, headers=auth(ALICE))

    await worker.drain()

    payloads = [verified(hook["secret"], received) for received in receiver.received]
    # Sent concurrently: in any order (each body says when its change happened).
    assert sorted(p["type"] for p in payloads) == ["task.completed", "task.created", "task.deleted"]
    by_type = {p["type"]: p["data"] for p in payloads}
    assert by_type["task.created"] == task
    assert by_type["task.completed"] == completed
    assert by_type["task.deleted"] == {"id": task["id"]}
    deliveries = await rows(app, "webhook_deliveries")
    assert {d["status"] for d in deliveries} == {"succeeded"}
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 3
    attempts = await rows(app, "webhook_attempts")
    assert [a["response_status"] for a in attempts] == [204, 204, 204]


async def test_list_events_arrive(
    client: httpx.AsyncClient, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(
        client, url=receiver.url(), event_types=["list.created", "list.deleted"]
    )
    created = await client.post("/api/lists", json={"name": "Home"}, headers=auth(ALICE))
    await client.delete(f"/api/lists/{created.json()['id']}", headers=auth(ALICE))

    await worker.drain()

    payloads = [verified(hook["secret"], received) for received in receiver.received]
    by_type = {p["type"]: p["data"] for p in payloads}
    expected = {k: v for k, v in created.json().items() if not k.endswith("task_count")}
    assert by_type == {"list.created": expected, "list.deleted": {"id": created.json()["id"]}}


async def test_an_endpoint_hears_only_its_owners_events(
    client: httpx.AsyncClient, receiver: Receiver, worker: WebhookWorker
) -> None:
    alices = await create_webhook(client, ALICE, url=receiver.url("/alice"))
    bobs = await create_webhook(client, BOB, url=receiver.url("/bob"))
    await create_task(client, ALICE, title="alice's")
    await create_task(client, BOB, title="bob's")
    await create_task(client, BOB, title="bob's too")

    await worker.drain()

    heard = {
        path: [
            verified(hook["secret"], r)["data"]["title"]
            for r in receiver.received
            if r.path == path
        ]
        for path, hook in (("/alice", alices), ("/bob", bobs))
    }
    assert heard["/alice"] == ["alice's"]
    assert sorted(heard["/bob"]) == ["bob's", "bob's too"]


async def test_unwanted_types_and_earlier_events_are_not_sent(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    await create_task(client, title="before the webhook")
    await create_webhook(client, url=receiver.url(), event_types=["task.deleted"])
    await create_task(client, title="not a deletion")

    await worker.drain()

    assert receiver.received == []
    assert await rows(app, "webhook_deliveries") == []
    (endpoint,) = await rows(app, "webhook_endpoints")
    assert endpoint["cursor_seq"] == 2  # both events read past


async def test_a_failure_is_retried_on_the_schedule_with_the_same_id(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(client, url=receiver.url())
    receiver.answers.append((500, {}))
    await create_task(client)

    await worker.drain()
    (delivery,) = await rows(app, "webhook_deliveries")
    wait = (delivery["next_attempt_at"] - CLOCK()).total_seconds()
    assert delivery["status"] == "pending"
    assert 9 < wait <= 11  # 10 s plus up to 10% jitter
    CLOCK.advance(timedelta(seconds=12))
    await worker.drain()

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(delivery["id"])
    assert first.body == second.body
    listed = await client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=auth(ALICE))
    (shown,) = listed.json()
    assert shown["status"] == "succeeded"
    assert shown["next_attempt_at"] is None
    assert [a["response_status"] for a in shown["attempts"]] == [500, 204]


async def test_retry_after_is_honoured(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    await create_webhook(client, url=receiver.url())
    receiver.answers.append((429, {"Retry-After": "120"}))
    await create_task(client)

    await worker.drain()

    (delivery,) = await rows(app, "webhook_deliveries")
    assert 119 < (delivery["next_attempt_at"] - CLOCK()).total_seconds() <= 121


async def test_a_delivery_is_given_up_after_the_schedule(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    await create_webhook(client, url=receiver.url())
    receiver.answers.extend([(500, {})] * 3)
    await create_task(client)

    for _ in range(3):
        await worker.drain()
        CLOCK.advance(timedelta(seconds=30))

    (delivery,) = await rows(app, "webhook_deliveries")
    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == (
        "failed",
        3,
        None,
    )
    assert len(receiver.received) == 3


async def test_410_disables_the_endpoint_and_an_event_says_so(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(client, url=receiver.url())
    receiver.answers.append((410, {}))
    await create_task(client, title="first")

    await worker.drain()
    await create_task(client, title="after it went")
    await worker.drain()

    assert len(receiver.received) == 1
    read = (await client.get(f"/api/webhooks/{hook['id']}", headers=auth(ALICE))).json()
    assert (read["enabled"], read["disabled_reason"]) == (False, "gone")
    events = [e for e in await rows(app, "events") if e["entity_type"] == "webhook"]
    assert [(e["kind"], e["state"]["disabled_reason"]) for e in events] == [("disabled", "gone")]


async def test_an_endpoint_failing_too_long_is_disabled(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(client, url=receiver.url())
    receiver.answers.extend([(503, {})] * 2)
    await create_task(client)
    await worker.drain()
    CLOCK.advance(timedelta(hours=2))

    await worker.drain()

    read = (await client.get(f"/api/webhooks/{hook['id']}", headers=auth(ALICE))).json()
    assert (read["enabled"], read["disabled_reason"]) == (False, "failing")


async def test_ping_and_retry_by_hand(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(client, url=receiver.url())
    base = f"/api/webhooks/{hook['id']}"

    pinged = await client.post(f"{base}/ping", headers=auth(ALICE))
    await worker.drain()
    again = await client.post(f"{base}/deliveries/{pinged.json()['id']}/retry", headers=auth(ALICE))
    await worker.drain()

    assert (pinged.status_code, again.status_code) == (202, 202)
    first, second = (verified(hook["secret"], r) for r in receiver.received)
    assert first == second
    assert (first["type"], first["data"]) == ("webhook.ping", {"webhook_id": hook["id"]})
    (delivery,) = await rows(app, "webhook_deliveries")
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)


async def test_during_a_rotation_both_secrets_verify(
    client: httpx.AsyncClient, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = await create_webhook(client, url=receiver.url())
    rotated = await client.post(f"/api/webhooks/{hook['id']}/rotate-secret", headers=auth(ALICE))
    await create_task(client)

    await worker.drain()

    (received,) = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verified(hook["secret"], received) == verified(rotated.json()["secret"], received)
    assert json.loads(received.body)["type"] == "task.created"


async def test_retry_after_as_an_http_date_is_honoured(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    await create_webhook(client, url=receiver.url())
    then = (CLOCK() + timedelta(minutes=5)).replace(microsecond=0)  # an HTTP date has seconds
    receiver.answers.append((503, {"Retry-After": format_datetime(then, usegmt=True)}))
    await create_task(client)

    await worker.drain()

    (delivery,) = await rows(app, "webhook_deliveries")
    assert delivery["status"] == "pending"
    assert then <= delivery["next_attempt_at"] < then + timedelta(minutes=1)
    (attempt,) = await rows(app, "webhook_attempts")
    assert (attempt["response_status"], attempt["error"]) == (503, None)


@pytest.mark.parametrize(
    "retry_after",
    [
        "soon",
        "Sun, 06 Nov 1994 08:49:37 GMT",  # a date gone by
        "Fri, 31 Dec 2100 25:61:00 GMT",  # no such time
        "\N{SUPERSCRIPT TWO}",  # a digit to str.isdigit, not to float()
    ],
)
async def test_a_useless_retry_after_leaves_the_schedule(
    client: httpx.AsyncClient,
    app: FastAPI,
    receiver: Receiver,
    worker: WebhookWorker,
    retry_after: str,
) -> None:
    await create_webhook(client, url=receiver.url())
    receiver.answers.append((503, {"Retry-After": retry_after}))
    await create_task(client)

    await worker.drain()

    (delivery,) = await rows(app, "webhook_deliveries")
    assert delivery["status"] == "pending"
    assert 9 < (delivery["next_attempt_at"] - CLOCK()).total_seconds() <= 11  # the schedule's 10 s
    (attempt,) = await rows(app, "webhook_attempts")
    assert (attempt["response_status"], attempt["error"]) == (503, None)


async def test_an_answer_longer_than_the_cap_is_not_read_to_its_end(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver, worker: WebhookWorker
) -> None:
    cap = app_state(app).settings.webhook_max_response_bytes
    # Far more than the cap and than both sockets' buffers can hold: a worker that read it
    # all would let the receiver write it all.
    receiver.body_bytes = 64 * 1024 * 1024
    receiver.answers.append((200, {}))
    hook = await create_webhook(client, url=receiver.url())
    await create_task(client)

    await worker.drain()
    async with asyncio.timeout(DEADLINE_SECONDS):
        await receiver.answered.wait()

    (received,) = receiver.received
    assert cap <= received.body_written < receiver.body_bytes  # the worker hung up midway
    (delivery,) = await rows(app, "webhook_deliveries")
    assert delivery["status"] == "succeeded"
    listed = await client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=auth(ALICE))
    (attempt,) = listed.json()[0]["attempts"]
    # Nothing of the answer is kept but its status.
    assert (attempt["response_status"], attempt["error"]) == (200, None)
    assert set(attempt) == {"number", "at", "response_status", "duration_ms", "error"}


async def test_a_stalled_endpoint_does_not_hold_up_another(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver
) -> None:
    state = app_state(app)
    # Two attempts at once, one per endpoint: a stalled endpoint may hold only its own slot.
    settings = state.settings.model_copy(
        update={"webhook_concurrency": 2, "webhook_concurrency_per_endpoint": 1}
    )
    worker = WebhookWorker(state.database, settings, StubResolver())
    slow = receiver
    slow.answering.clear()
    await create_webhook(client, url=slow.url())
    await create_task(client, title="only the slow one hears")
    await create_task(client, title="only the slow one hears too")
    # Derived first, so due first: without the per-endpoint limit both slots go to the slow one.
    await outbox.derive_deliveries(state.database)
    async with running_receiver() as fast:
        hook = await create_webhook(client, url=fast.url())
        await create_task(client, title="first")
        await create_task(client, title="second")
        draining = asyncio.create_task(worker.drain())
        try:
            async with asyncio.timeout(DEADLINE_SECONDS):
                await fast.wait_for(2)
            stalled = (len(slow.received), draining.done())
            slow.answering.set()
            async with asyncio.timeout(DEADLINE_SECONDS):
                await draining
        finally:
            draining.cancel()  # done by now, unless a wait above ran out
            await worker.close()

    assert stalled == (1, False)  # both arrived at the quick one while the slow one hung
    assert sorted(verified(hook["secret"], r)["data"]["title"] for r in fast.received) == [
        "first",
        "second",
    ]
    assert len(slow.received) == 4
    deliveries = await rows(app, "webhook_deliveries")
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("succeeded", 1)] * 6
