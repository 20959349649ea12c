"""Idempotency-Key on POST /api/tasks: replay, mismatch, concurrency, per-user keys, limits,
expiry and purge."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.models import IdempotencyKey
from app.state import app_state
from app.sync.retention import purge_expired
from tests.support.clock import now as clock_now
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    all_tasks,
    assert_error,
    auth,
    sessionmaker_of,
    stored_key_columns,
)

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


async def post(
    client: httpx.AsyncClient, key: str | None, body: Any = None, user: str = ALICE
) -> httpx.Response:
    headers = auth(user) if key is None else {**auth(user), "Idempotency-Key": key}
    return await client.post("/api/tasks", json=body or {"title": "once"}, headers=headers)


async def stored_keys(app: FastAPI) -> list[tuple[str, str]]:
    return await stored_key_columns(app, IdempotencyKey.user_id, IdempotencyKey.key)


async def test_a_retry_with_the_same_key_replays_the_first_response(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await post(client, KEY)
    retry = await post(client, KEY)
    task_id = first.json()["id"]

    assert first.status_code == retry.status_code == 201, retry.text
    assert "idempotency-replayed" not in first.headers
    assert retry.headers["idempotency-replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["location"] == first.headers["location"] == f"/api/tasks/{task_id}"
    assert [task.id for task in await all_tasks(app)] == [uuid.UUID(first.json()["id"])]


async def test_a_quoted_key_is_the_same_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    first = await post(client, KEY)
    retry = await post(client, f'"{KEY}"')

    assert retry.headers["idempotency-replayed"] == "true"
    assert retry.json() == first.json()
    assert len(await all_tasks(app)) == 1


async def test_the_same_key_with_another_body_is_422_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await post(client, KEY, {"title": "first"})
    before = await all_rows(app)

    response = await post(client, KEY, {"title": "second"})

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await all_rows(app) == before


async def test_concurrent_requests_with_one_key_create_one_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for round_ in range(5):
        key = f"{KEY}-{round_}"
        responses = await asyncio.gather(*(post(client, key) for _ in range(4)))

        assert {response.status_code for response in responses} == {201}
        assert len({response.content for response in responses}) == 1
        replayed = [r.headers.get("idempotency-replayed") for r in responses]
        assert sorted(replayed, key=str) == [None, "true", "true", "true"]
    assert len(await all_tasks(app)) == 5


async def test_keys_are_per_user(app: FastAPI, client: httpx.AsyncClient) -> None:
    alices = await post(client, KEY)
    bobs = await post(client, KEY, user=BOB)

    assert bobs.status_code == 201
    assert "idempotency-replayed" not in bobs.headers
    assert bobs.json()["id"] != alices.json()["id"]
    assert sorted(task.user_id for task in await all_tasks(app)) == sorted([ALICE, BOB])
    assert await stored_keys(app) == sorted([(ALICE, KEY), (BOB, KEY)])


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param('""', id="empty-quoted"),
        pytest.param("a" * 256, id="too-long"),
        pytest.param("has space", id="space"),
        pytest.param('"unbalanced', id="unbalanced-quote"),
        pytest.param("back\\slash", id="backslash"),
        pytest.param("caf\u00e9", id="non-ascii"),
        pytest.param("tab\there", id="control"),
    ],
)
async def test_a_bad_key_is_400_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, key: str
) -> None:
    response = await client.post(
        "/api/tasks",
        json={"title": "x"},
        headers=[(name.encode(), value.encode()) for name, value in auth(ALICE).items()]
        + [(b"Idempotency-Key", key.encode())],
    )

    assert_error(response, 400, "INVALID_IDEMPOTENCY_KEY")
    assert await all_tasks(app) == []
    assert await stored_keys(app) == []


async def test_the_longest_key_is_accepted(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await post(client, "k" * 255)).status_code == 201
    assert await stored_keys(app) == [(ALICE, "k" * 255)]


async def test_a_repeated_key_header_is_400(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = [*auth(ALICE).items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]

    response = await client.post("/api/tasks", json={"title": "x"}, headers=headers)

    assert_error(response, 400, "INVALID_IDEMPOTENCY_KEY")
    assert await all_tasks(app) == []


async def test_an_invalid_body_stores_no_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    refused = await post(client, KEY, {"title": ""})
    accepted = await post(client, KEY, {"title": "fixed"})

    assert_error(refused, 400, "VALIDATION_ERROR")
    assert accepted.status_code == 201
    assert "idempotency-replayed" not in accepted.headers
    assert [task.title for task in await all_tasks(app)] == ["fixed"]


async def age_keys(app: FastAPI, age: timedelta) -> None:
    async with sessionmaker_of(app)() as session:
        await session.execute(update(IdempotencyKey).values(created_at=clock_now() - age))
        await session.commit()


async def test_an_expired_key_is_a_new_request(app: FastAPI, client: httpx.AsyncClient) -> None:
    first = await post(client, KEY, {"title": "first"})
    await age_keys(app, timedelta(hours=25))

    second = await post(client, KEY, {"title": "second"})

    assert second.status_code == 201
    assert "idempotency-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert len(await all_tasks(app)) == 2


async def test_expired_keys_are_purged_and_live_ones_kept(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await post(client, "old")
    await age_keys(app, timedelta(hours=25))
    await post(client, "new")
    state = app_state(app)

    await purge_expired(state.database, state.settings)

    assert await stored_keys(app) == [(ALICE, "new")]
    assert len(await all_tasks(app)) == 2


# The app's own job worker (app.jobs), with the purge due every second.
@pytest.mark.parametrize(
    "settings_overrides", [{"sync_purge_schedule": "* * * * * *", "jobs_in_process": True}]
)
async def test_the_background_purge_runs_without_being_asked(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await post(client, "old")
    await age_keys(app, timedelta(hours=25))

    for _ in range(300):  # polls until the purge has run: no timing is asserted
        if not await stored_keys(app):
            break
        await asyncio.sleep(0.1)

    assert await stored_keys(app) == []
