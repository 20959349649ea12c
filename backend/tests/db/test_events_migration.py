"""Migration 0006: existing tombstones become `deleted` events, with their seq and time, and
go back on downgrade."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.db.test_migrations import empty_database_url, empty_engine  # noqa: F401 (fixtures)
from tests.support.migrations import downgrade_to, migrate_to


async def test_tombstones_move_to_events_and_back(empty_engine: AsyncEngine) -> None:  # noqa: F811
    await migrate_to(empty_engine, "0006")
    task_id = uuid.uuid4()
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    tombstone = {"user": "alice", "seq": 7, "task": task_id, "at": when}
    async with empty_engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        await connection.execute(
            text(
                "INSERT INTO task_tombstones (user_id, seq, task_id, deleted_at)"
                " VALUES (:user, :seq, :task, :at)"
            ),
            {
                **tombstone,
                "task": task_id.hex if sqlite else task_id,
                "at": when.replace(tzinfo=None) if sqlite else when,
            },
        )

    await migrate_to(empty_engine, "0007")
    async with empty_engine.connect() as connection:
        events = (
            await connection.execute(
                text("SELECT scope_id, seq, entity_type, kind, actor, state FROM events")
            )
        ).all()
    assert [tuple(row) for row in events] == [("alice", 7, "task", "deleted", "alice", None)]

    await downgrade_to(empty_engine, "0006")
    async with empty_engine.connect() as connection:
        back = (await connection.execute(text("SELECT user_id, seq FROM task_tombstones"))).all()
    assert [tuple(row) for row in back] == [("alice", 7)]
