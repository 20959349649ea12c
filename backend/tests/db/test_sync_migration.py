"""The sync migration numbers existing tasks as if they had been written one by one."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.migrate import alembic_config, upgrade_to_head
from app.models.base import UTCDateTime
from tests.db.test_migrations import empty_database_url, empty_engine  # noqa: F401 (fixtures)

# The table as revision 0001 made it: no version column yet.
_INSERT = text(
    "INSERT INTO tasks (id, user_id, title, is_completed, created_at, updated_at)"
    " VALUES (:id, :user, 't', false, :at, :at)"
).bindparams(bindparam("id", type_=Uuid()), bindparam("at", type_=UTCDateTime()))


def _upgrade_to(revision: str) -> object:
    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return upgrade


async def test_existing_tasks_get_distinct_versions_and_users_a_counter_past_them(
    empty_engine: AsyncEngine,  # noqa: F811
) -> None:
    async with empty_engine.begin() as connection:
        await connection.run_sync(_upgrade_to("0001"))  # type: ignore[arg-type]
        for number, user in enumerate(["alice", "bob", "alice", "alice"]):
            at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number)
            await connection.execute(_INSERT, {"id": uuid.uuid4(), "user": user, "at": at})

    await upgrade_to_head(empty_engine)

    async with empty_engine.connect() as connection:
        versions = await connection.execute(
            text("SELECT user_id, version FROM tasks ORDER BY user_id, created_at")
        )
        counters = await connection.execute(
            text("SELECT user_id, seq, purged_seq FROM user_sync ORDER BY user_id")
        )
        assert [tuple(row) for row in versions] == [
            ("alice", 1),
            ("alice", 2),
            ("alice", 3),
            ("bob", 1),
        ]
        assert [tuple(row) for row in counters] == [("alice", 3, 0), ("bob", 1, 0)]


async def test_at_head_sqlite_has_its_sync_triggers(database_url: str) -> None:
    """A later migration that rebuilds `tasks` on SQLite (batch mode) would drop them silently."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writes keep their counter in a CTE, without triggers")
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            )
            assert {"tasks_sync_delete", "tasks_sync_insert", "tasks_sync_update"} <= set(names)
    finally:
        await engine.dispose()
