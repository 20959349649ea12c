"""The schema is Alembic's: the app refuses to run on an out-of-date database (or migrates it
when told to), migrations go down and up again, and the models match them. Both databases."""

import ast
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.database import create_engine
from app.db.migrate import (
    SchemaOutOfDate,
    alembic_config,
    current_revision,
    head_revision,
    is_ours,
    upgrade_to_head,
)
from app.models import metadata
from tests.conftest import new_postgres_database
from tests.support.helpers import (
    ALICE,
    all_tasks,
    auth,
    make_settings,
    make_task,
    running_app,
    sessionmaker_of,
    stored_task,
)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield f"sqlite+aiosqlite:///{path}"
        return
    with new_postgres_database(request.getfixturevalue("postgres_url"), "taskapi_empty") as url:
        yield url


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url=empty_database_url))
    yield engine
    await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def downgrade_to_base(engine: AsyncEngine) -> None:
    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)


@pytest.mark.parametrize("auto_migrate", [False, None])  # None: the production default
async def test_app_refuses_to_start_when_schema_is_behind(
    empty_database_url: str, empty_engine: AsyncEngine, auto_migrate: bool | None
) -> None:
    settings = make_settings(database_url=empty_database_url, auto_migrate=auto_migrate)

    with pytest.raises(SchemaOutOfDate) as refused:
        async with running_app(settings):
            pytest.fail("the app started on an empty database")

    assert str(refused.value) == (
        f"database schema is at revision none but this version of taskapi needs "
        f"{head_revision()}: run `taskapi migrate` (or set AUTO_MIGRATE=true)"
    )
    assert await table_names(empty_engine) == set()


async def test_auto_migrate_brings_the_schema_to_head_on_start(
    empty_database_url: str, empty_engine: AsyncEngine
) -> None:
    async with running_app(make_settings(database_url=empty_database_url, auto_migrate=True)):
        assert await current_revision(empty_engine) == head_revision()
        assert {"tasks", "alembic_version"} <= await table_names(empty_engine)


async def test_auto_migrated_app_serves_requests(empty_database_url: str) -> None:
    settings = make_settings(database_url=empty_database_url, auto_migrate=True)

    async with running_app(settings) as (app, client):
        created = await client.post("/api/tasks", json={"title": "first"}, headers=auth(ALICE))
        listed = await client.get("/api/tasks", headers=auth(ALICE))

        assert created.status_code == 201, created.text
        assert listed.status_code == 200
        assert [task["title"] for task in listed.json()] == ["first"]
        assert [(task.user_id, task.title) for task in await all_tasks(app)] == [(ALICE, "first")]


async def test_starting_twice_with_auto_migrate_is_harmless(empty_database_url: str) -> None:
    settings = make_settings(database_url=empty_database_url, auto_migrate=True)
    async with running_app(settings) as (first, _):
        await make_task(first, ALICE, title="kept")

    async with running_app(settings) as (second, _):
        assert [task.title for task in await all_tasks(second)] == ["kept"]


async def test_downgrade_to_base_then_upgrade_again(empty_engine: AsyncEngine) -> None:
    await upgrade_to_head(empty_engine)

    await downgrade_to_base(empty_engine)
    assert await current_revision(empty_engine) is None
    assert await table_names(empty_engine) == {"alembic_version"}

    await upgrade_to_head(empty_engine)
    assert await current_revision(empty_engine) == head_revision()
    assert {"tasks", "alembic_version"} <= await table_names(empty_engine)


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": is_ours}
    )
    return list(compare_metadata(context, metadata))


async def test_models_match_the_migrations(database_url: str) -> None:
    engine = create_engine(make_settings(database_url=database_url))
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
    finally:
        await engine.dispose()

    assert differences == []


async def test_better_auth_tables_in_the_same_database_are_left_alone(
    empty_engine: AsyncEngine,
) -> None:
    """Neon with Better Auth: one database, their tables beside ours."""
    async with empty_engine.begin() as connection:
        await connection.exec_driver_sql(
            'CREATE TABLE jwks (id TEXT PRIMARY KEY, "publicKey" TEXT)'
        )
    await upgrade_to_head(empty_engine)

    def check(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.check(config)  # raises if autogenerate would change anything, e.g. drop jwks

    async with empty_engine.connect() as connection:
        await connection.run_sync(check)
    await downgrade_to_base(empty_engine)
    assert await table_names(empty_engine) == {"alembic_version", "jwks"}


# 05:04:05 at UTC+2 is 03:04:05 UTC.
LOCAL_TIME = datetime(2024, 1, 2, 5, 4, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
UTC_TIME = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


async def test_timestamps_come_back_as_utc_through_the_orm(app: FastAPI) -> None:
    task = await make_task(app, ALICE, created_at=LOCAL_TIME, updated_at=LOCAL_TIME)

    stored = await stored_task(app, task.id)

    assert stored is not None
    assert stored.created_at == UTC_TIME
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.updated_at.utcoffset() == timedelta(0)
    assert stored.created_at.isoformat() == "2024-01-02T03:04:05.123456+00:00"


async def test_timestamps_are_stored_as_utc(app: FastAPI) -> None:
    task = await make_task(app, ALICE, created_at=LOCAL_TIME, updated_at=LOCAL_TIME)

    async with sessionmaker_of(app)() as session:
        raw = await session.scalar(
            text("SELECT created_at FROM tasks WHERE id = :id").bindparams(id=task.id),
        )

    if isinstance(raw, datetime):  # PostgreSQL: timestamptz, an aware value
        assert raw == UTC_TIME
        assert raw.utcoffset() == timedelta(0)
    else:  # SQLite: text holding the UTC wall-clock time
        assert isinstance(raw, str)
        assert datetime.fromisoformat(raw) == UTC_TIME.replace(tzinfo=None)


async def test_timestamps_in_api_responses_carry_the_utc_offset(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_task(app, ALICE, created_at=LOCAL_TIME, updated_at=LOCAL_TIME)

    response = await client.get("/api/tasks", headers=auth(ALICE))

    assert response.status_code == 200
    [task] = response.json()
    assert datetime.fromisoformat(task["created_at"]) == UTC_TIME
    assert datetime.fromisoformat(task["created_at"]).utcoffset() == timedelta(0)


async def test_timestamps_set_by_the_server_are_utc(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post("/api/tasks", json={"title": "now"}, headers=auth(ALICE))
    assert created.status_code == 201

    [task] = await all_tasks(app)
    assert task.created_at.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(created.json()["created_at"]) == task.created_at


def test_migrations_import_no_application_code() -> None:
    """A migration is frozen when written: importing `app` would let a later change to the
    app silently change what an old revision does."""
    versions = Path(__file__).resolve().parents[2] / "app" / "migrations" / "versions"
    offenders = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "app"]
    assert offenders == []
