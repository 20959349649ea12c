"""Request forgery at connect time: the worker resolves the host again and refuses a private
answer before any connection (the resolver is stubbed: no test connects anywhere but
127.0.0.1). Redirects are not followed."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.db.sequenced import append_events, event_row, take_counter_lock, take_seqs
from app.state import app_state
from app.webhooks.worker import WebhookWorker
from tests.support.clock import CLOCK, wall_now
from tests.support.helpers import ALICE, create_task
from tests.support.webhook_receiver import Receiver
from tests.webhooks.helpers import PUBLIC, StubResolver, create_webhook, rows, stub_dns


@pytest.fixture(autouse=True)
def wall_clock() -> None:
    CLOCK.set(wall_now())


async def worker_with(app: FastAPI, resolver: StubResolver) -> WebhookWorker:
    state = app_state(app)
    return WebhookWorker(state.database, state.settings, resolver)


@pytest.mark.parametrize("answer", ["10.0.0.1", "169.254.169.254", "127.0.0.1", "::1"])
async def test_a_dns_answer_changed_after_creation_is_refused_at_connect_time(
    client: httpx.AsyncClient, app: FastAPI, answer: str
) -> None:
    stub_dns(app, hooks_example=[PUBLIC])
    await create_webhook(client, url="http://hooks.example/in")
    await create_task(client)
    rebound = StubResolver({"hooks.example": [answer]})
    worker = await worker_with(app, rebound)

    try:
        await worker.drain()
    finally:
        await worker.close()

    assert rebound.asked == ["hooks.example"]
    (attempt,) = await rows(app, "webhook_attempts")
    assert attempt["response_status"] is None
    assert attempt["error"].startswith("refused:")
    (delivery,) = await rows(app, "webhook_deliveries")
    assert delivery["status"] == "pending"  # retried later: the answer may change back


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = Receiver()
    await started.start()
    yield started
    await started.stop()


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private_targets": True}])
async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver
) -> None:
    await create_webhook(client, url=receiver.url("/first"))
    receiver.answers.append((307, {"Location": receiver.url("/elsewhere")}))
    await create_task(client)
    worker = await worker_with(app, StubResolver())

    try:
        await worker.drain()
    finally:
        await worker.close()

    assert [r.path for r in receiver.received] == ["/first"]
    (attempt,) = await rows(app, "webhook_attempts")
    assert attempt["response_status"] == 307
    (delivery,) = await rows(app, "webhook_deliveries")
    assert delivery["status"] == "pending"


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private_targets": True}])
async def test_a_reminder_fired_event_is_delivered_as_reminder_fired(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver
) -> None:
    """The reminders' events (entity `task`, kind `reminder_fired`, the task as state) are
    written by their own code; here one is appended as the application writes events."""
    await create_webhook(client, url=receiver.url(), event_types=["reminder.fired"])
    task = await create_task(client, title="Call back")
    database = app_state(app).database
    (created,) = await rows(app, "events")
    async with database.write(ALICE, several_statements=True) as connection:
        await take_counter_lock(connection, ALICE)
        seq = await take_seqs(connection, ALICE, 1)
        fired = event_row(
            ALICE, seq, "task", created["entity_id"], "reminder_fired", CLOCK(), created["state"]
        )
        await append_events(connection, [fired])
    worker = await worker_with(app, StubResolver())

    try:
        await worker.drain()
    finally:
        await worker.close()

    (received,) = receiver.received
    payload = json.loads(received.body)
    assert payload["type"] == "reminder.fired"
    assert payload["data"] == task


@pytest.mark.parametrize(
    "settings_overrides",
    [{"webhook_allow_private_targets": True, "webhook_timeout_seconds": 0.5}],
)
async def test_an_answer_that_never_comes_is_a_timeout(
    client: httpx.AsyncClient, app: FastAPI, receiver: Receiver
) -> None:
    await create_webhook(client, url=receiver.url())
    await create_task(client)
    receiver.answering.clear()
    worker = await worker_with(app, StubResolver())

    try:
        await worker.drain()
    finally:
        receiver.answering.set()
        await worker.close()

    (attempt,) = await rows(app, "webhook_attempts")
    assert (attempt["response_status"], attempt["error"]) == (None, "timeout")
    (delivery,) = await rows(app, "webhook_deliveries")
    assert delivery["status"] == "pending"
