"""No request waits on the database for longer than the configured bounds: a statement that
gets no answer (a held lock, a frozen link) and a wait for a free connection each end in a 503
with Retry-After; "busy" (the pool is full) has its own code, distinct from "down"."""

import asyncio
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.helpers import (
    ALICE,
    assert_error,
    auth,
    create_task,
    make_settings,
    row_of,
    running_app,
)


@asynccontextmanager
async def row_locked_elsewhere(postgres_url: str, task_id: str) -> AsyncIterator[None]:
    """Another session holds the task's row lock until the block ends."""
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as locker:
            await locker.execute(
                text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": task_id}
            )
            yield
    finally:
        await engine.dispose()


def assert_retry_later(response: httpx.Response, error_code: str, retry_after: str) -> None:
    assert_error(response, 503, error_code)
    assert response.headers["retry-after"] == retry_after


async def test_a_statement_without_an_answer_in_time_is_a_503(postgres_url: str) -> None:
    settings = make_settings(database_url=postgres_url, db_statement_timeout_seconds=0.5)
    async with running_app(settings) as (app, client):
        task = await create_task(client, title="before")
        async with row_locked_elsewhere(postgres_url, task["id"]):
            started = time.monotonic()
            # wait_for: without the timeout under test this would wait for the lock forever.
            blocked = await asyncio.wait_for(
                client.put(
                    f"/api/tasks/{task['id']}", json={"title": "after"}, headers=auth(ALICE)
                ),
                10,
            )
            waited = time.monotonic() - started
        assert_retry_later(blocked, "DATABASE_UNAVAILABLE", "2")
        assert waited < 3
        assert (await row_of(app, task["id"]))["title"] == "before"

        # The lock is gone: the same request now goes through on the same pool.
        retried = await client.put(
            f"/api/tasks/{task['id']}", json={"title": "after"}, headers=auth(ALICE)
        )
        assert retried.status_code == 200, retried.text
        assert (await row_of(app, task["id"]))["title"] == "after"


async def test_a_full_pool_is_busy_not_down(postgres_url: str) -> None:
    settings = make_settings(
        database_url=postgres_url,
        db_pool_size=1,
        db_pool_timeout_seconds=0.3,
        db_statement_timeout_seconds=5,
    )
    async with running_app(settings) as (_, client):
        task = await create_task(client)
        async with row_locked_elsewhere(postgres_url, task["id"]):
            # Holds the only connection, waiting for the lock.
            holder = asyncio.create_task(
                client.put(f"/api/tasks/{task['id']}", json={"title": "x"}, headers=auth(ALICE))
            )
            await asyncio.sleep(0.2)
            started = time.monotonic()
            waiting = await asyncio.wait_for(client.get("/api/tasks", headers=auth(ALICE)), 10)
            waited = time.monotonic() - started
            assert_retry_later(waiting, "DATABASE_BUSY", "1")
            assert waited < 2
        assert (await holder).status_code == 200  # the lock went away in time
        assert (await client.get("/api/tasks", headers=auth(ALICE))).status_code == 200


async def test_sqlite_writer_waiting_too_long_for_the_lock_is_a_503(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "taskapi.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    async with running_app(make_settings(database_url=url, db_statement_timeout_seconds=0.3)) as (
        _,
        client,
    ):
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            blocked = await client.post("/api/tasks", json={"title": "x"}, headers=auth(ALICE))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert_retry_later(blocked, "DATABASE_UNAVAILABLE", "2")
        assert (await client.get("/api/tasks", headers=auth(ALICE))).json() == []
        created = await client.post("/api/tasks", json={"title": "x"}, headers=auth(ALICE))
        assert created.status_code == 201, created.text
