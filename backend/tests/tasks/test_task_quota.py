"""MAX_TASKS_PER_USER: a create past it is a 409 TASK_QUOTA_EXCEEDED that writes nothing, also
when creates race for the last place, and also with Idempotency-Key. Both databases."""

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import column, func, insert, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import metadata
from app.models.sync import IdempotencyKey
from tests.db.test_migrations import empty_database_url, empty_engine  # noqa: F401 (fixtures)
from tests.support.helpers import (
    ALICE,
    BOB,
    all_tasks,
    assert_error,
    auth,
    create_task,
    sessionmaker_of,
)
from tests.support.migrations import migrate_to

QUOTA = 3


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_tasks_per_user": QUOTA}


async def titles_of(app: FastAPI, user: str) -> list[str]:
    return [task.title for task in await all_tasks(app) if task.user_id == user]


async def stored_idempotency_keys(app: FastAPI) -> int:
    async with sessionmaker_of(app)() as session:
        return int(await session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0)


async def test_a_create_past_the_quota_is_409_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(QUOTA):
        await create_task(client, title=f"task {n}")

    refused = await client.post(
        "/api/tasks", json={"title": "one too many", "tags": ["x"]}, headers=auth(ALICE)
    )

    assert_error(refused, 409, "TASK_QUOTA_EXCEEDED")
    assert await titles_of(app, ALICE) == [f"task {n}" for n in range(QUOTA)]


async def test_the_quota_is_per_user_and_deleting_makes_room(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = [await create_task(client, title=f"task {n}") for n in range(QUOTA)]

    assert (await create_task(client, BOB, title="bob's"))["title"] == "bob's"
    deleted = await client.delete(f"/api/tasks/{created[0]['id']}", headers=auth(ALICE))
    assert deleted.status_code == 204
    again = await client.post("/api/tasks", json={"title": "room again"}, headers=auth(ALICE))

    assert again.status_code == 201, again.text
    assert sorted(await titles_of(app, ALICE)) == ["room again", "task 1", "task 2"]


async def test_an_idempotent_create_past_the_quota_stores_no_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(QUOTA):
        await create_task(client, title=f"task {n}")
    keys_before = await stored_idempotency_keys(app)

    headers = {**auth(ALICE), "Idempotency-Key": "quota-test-key"}
    refused = await client.post("/api/tasks", json={"title": "over"}, headers=headers)

    assert_error(refused, 409, "TASK_QUOTA_EXCEEDED")
    assert await stored_idempotency_keys(app) == keys_before
    assert len(await titles_of(app, ALICE)) == QUOTA


async def test_creates_racing_for_the_last_places_never_pass_the_quota(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_task(client, title="first")
    racers = [
        client.post("/api/tasks", json={"title": f"racer {n}"}, headers=auth(ALICE))
        for n in range(12)
    ]

    answers = await asyncio.gather(*racers)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * (QUOTA - 1) + [409] * (12 - QUOTA + 1), statuses
    assert len(await titles_of(app, ALICE)) == QUOTA


async def test_tasks_written_before_the_migration_count(
    empty_engine: AsyncEngine,  # noqa: F811 (the fixture imported above)
) -> None:
    """0004 counts the tasks already stored: a user already at the quota stays there."""
    await migrate_to(empty_engine, "0003")
    old_task = {
        "user_id": ALICE,
        "title": "old",
        "is_completed": False,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "priority": 0,
        "tags": [],
        "title_key": "old",
        "description_key": "",
        "due_key": 0,
        "due_key_desc": 0,
    }
    async with empty_engine.begin() as connection:
        rows = [{**old_task, "id": uuid.uuid4()} for _ in range(QUOTA)]
        # The columns of revision 0003 only: today's table has more.
        columns = metadata.tables["tasks"].c
        old_table = table("tasks", *(column(name, columns[name].type) for name in rows[0]))
        await connection.execute(insert(old_table), rows)
    await migrate_to(empty_engine, "head")

    user_sync = metadata.tables["user_sync"]
    async with empty_engine.connect() as connection:
        counts = dict(
            (await connection.execute(select(user_sync.c.user_id, user_sync.c.task_count))).all()
        )
    assert counts == {ALICE: QUOTA}
