"""The app behind a real PgBouncer in transaction mode (what Neon's "-pooler" hosts run): each
transaction may land on any server connection, so asyncpg's prepared statements must be uniquely
named and never cached (DB_POOLER=pgbouncer, automatic for Neon's "-pooler" hosts).

Needs PgBouncer at TEST_PGBOUNCER_URL (default 127.0.0.1:6432, as `.ci/pgbouncer.sh` sets it up)
in front of the test PostgreSQL server. Skipped when unreachable, unless
TASKAPI_REQUIRE_PGBOUNCER=1, in which case the run fails.
"""

import asyncio
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.db.database import create_engine
from app.models import Task
from tests.support.helpers import (
    ALICE,
    all_tasks,
    auth,
    delete_all_tasks,
    make_settings,
    make_task,
    running_app,
)

PGBOUNCER_URL = os.environ.get(
    "TEST_PGBOUNCER_URL", "postgresql+asyncpg://postgres@127.0.0.1:6432/postgres"
)
REQUIRE_PGBOUNCER = os.environ.get("TASKAPI_REQUIRE_PGBOUNCER") == "1"
CONCURRENT_REQUESTS = 30


COUNT_TASKS = select(func.count()).select_from(Task)


async def count_while_another_client_holds_the_server(url: str, pooler: str) -> None:
    """Client A runs a statement, then runs it again while client B is inside a transaction.

    In transaction pooling B is handed the server connection A just released (PgBouncer reuses
    the most recent idle one), so A's second run lands on another server connection.
    """
    engines = [create_engine(make_settings(database_url=url, db_pooler=pooler)) for _ in "ab"]
    try:
        async with engines[0].connect() as a, engines[1].connect() as b:
            await a.scalar(COUNT_TASKS)
            await a.commit()
            await b.scalar(COUNT_TASKS)  # B's transaction stays open: it keeps that server
            await a.scalar(COUNT_TASKS)
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.fixture(scope="module")
def pgbouncer_url(postgres_url: str) -> str:
    """The test database, reached through PgBouncer."""
    url = make_url(PGBOUNCER_URL).set(database=make_url(postgres_url).database)
    rendered = url.render_as_string(hide_password=False)
    try:
        asyncio.run(
            asyncio.wait_for(count_while_another_client_holds_the_server(rendered, "pgbouncer"), 15)
        )
    except (OSError, SQLAlchemyError, TimeoutError) as error:
        message = f"PgBouncer unreachable at {PGBOUNCER_URL} (see .ci/pgbouncer.sh): {error!r}"
        if REQUIRE_PGBOUNCER:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return rendered


@pytest.fixture
async def pooled(pgbouncer_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = make_settings(database_url=pgbouncer_url, db_pooler="pgbouncer")
    async with running_app(settings) as (app, client):
        await delete_all_tasks(app)  # the PostgreSQL test database is shared
        yield app, client


@pytest.fixture
def pooled_app(pooled: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return pooled[0]


@pytest.fixture
def pooled_client(pooled: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return pooled[1]


async def test_crud_cycle_through_pgbouncer(
    pooled_app: FastAPI, pooled_client: httpx.AsyncClient
) -> None:
    created = await pooled_client.post("/api/tasks", json={"title": "pooled"}, headers=auth(ALICE))
    assert created.status_code == 201, created.text
    path = f"/api/tasks/{created.json()['id']}"

    read = await pooled_client.get(path, headers=auth(ALICE))
    assert read.status_code == 200
    assert read.json() == created.json()

    updated = await pooled_client.put(path, json={"is_completed": True}, headers=auth(ALICE))
    assert updated.status_code == 200
    assert updated.json()["is_completed"] is True
    [stored] = await all_tasks(pooled_app)
    assert (stored.title, stored.is_completed) == ("pooled", True)

    listed = await pooled_client.get("/api/tasks", headers=auth(ALICE))
    assert listed.status_code == 200
    assert [task["id"] for task in listed.json()] == [created.json()["id"]]

    deleted = await pooled_client.delete(path, headers=auth(ALICE))
    assert deleted.status_code == 204
    gone = await pooled_client.get(path, headers=auth(ALICE))
    assert gone.status_code == 404
    assert gone.json()["error_code"] == "TASK_NOT_FOUND"
    assert await all_tasks(pooled_app) == []


async def test_concurrent_creates_through_pgbouncer(
    pooled_app: FastAPI, pooled_client: httpx.AsyncClient
) -> None:
    titles = [f"task {n}" for n in range(CONCURRENT_REQUESTS)]

    responses = await asyncio.gather(
        *(
            pooled_client.post("/api/tasks", json={"title": title}, headers=auth(ALICE))
            for title in titles
        )
    )

    assert [response.status_code for response in responses] == [201] * CONCURRENT_REQUESTS
    stored = await all_tasks(pooled_app)
    assert sorted(task.title for task in stored) == sorted(titles)
    assert {str(task.id) for task in stored} == {response.json()["id"] for response in responses}


async def test_concurrent_updates_through_pgbouncer(
    pooled_app: FastAPI, pooled_client: httpx.AsyncClient
) -> None:
    tasks = [await make_task(pooled_app, ALICE, title=f"old {n}") for n in range(30)]

    responses = await asyncio.gather(
        *(
            pooled_client.put(
                f"/api/tasks/{task.id}",
                json={"title": f"new {n}", "is_completed": True},
                headers=auth(ALICE),
            )
            for n, task in enumerate(tasks)
        )
    )

    assert [response.status_code for response in responses] == [200] * len(tasks)
    stored = {task.id: task for task in await all_tasks(pooled_app)}
    assert {(stored[task.id].title, stored[task.id].is_completed) for task in tasks} == {
        (f"new {n}", True) for n in range(len(tasks))
    }


async def test_pgbouncer_mode_survives_a_change_of_server_connection(
    pgbouncer_url: str,
) -> None:
    await count_while_another_client_holds_the_server(pgbouncer_url, "pgbouncer")


async def test_without_pgbouncer_mode_a_prepared_statement_goes_missing(
    pgbouncer_url: str,
) -> None:
    """Why the settings exist: asyncpg caches the statement it prepared on one server
    connection and reuses it by name on another. Deterministic with classic transaction
    pooling, as .ci/pgbouncer.sh configures it (no prepared-statement tracking in PgBouncer)."""
    with pytest.raises(DBAPIError, match=r'prepared statement "__asyncpg_stmt_\w+__" does not'):
        await count_while_another_client_holds_the_server(pgbouncer_url, "none")
