"""Migration 0009: existing tasks end up in no list, unchanged; the counting triggers work; and
back down, tasks keep everything but `list_id` and their events still get written."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.db.test_migrations import empty_database_url, empty_engine  # noqa: F401 (fixtures)
from tests.support.migrations import downgrade_to, migrate_to

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TASK_COLUMNS = "id, user_id, title, is_completed, created_at, updated_at, priority, tags, version"


def _values(sqlite: bool, **values: Any) -> dict[str, Any]:
    """Raw-SQL parameters: SQLite stores UUIDs as hex and naive UTC."""
    if not sqlite:
        return values
    return {
        key: value.hex if isinstance(value, uuid.UUID)
        else value.replace(tzinfo=None) if isinstance(value, datetime)
        else value
        for key, value in values.items()
    }  # fmt: skip


async def insert_task(engine: AsyncEngine, task_id: uuid.UUID, version: int) -> None:
    async with engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        await connection.execute(
            text(
                f"INSERT INTO tasks ({TASK_COLUMNS}, title_key, description_key, due_key,"
                " due_key_desc) VALUES (:id, 'alice', 'Old', false, :at, :at, 2, '[\"x\"]',"
                " :version, 'old', '', 0, 0)"
            ),
            _values(sqlite, id=task_id, at=WHEN, version=version),
        )


async def task_rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT {TASK_COLUMNS} FROM tasks ORDER BY title"))
        return [tuple(row) for row in rows]


async def test_tasks_survive_the_migration_both_ways(empty_engine: AsyncEngine) -> None:  # noqa: F811
    await migrate_to(empty_engine, "0008")
    task_id = uuid.uuid4()
    await insert_task(empty_engine, task_id, version=1)
    before = await task_rows(empty_engine)

    await migrate_to(empty_engine, "0009")
    async with empty_engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        assert (await connection.execute(text("SELECT list_id FROM tasks"))).scalar_one() is None
        list_id = uuid.uuid4()
        await connection.execute(
            text(
                "INSERT INTO lists (id, user_id, name, position, archived, created_at,"
                " updated_at, version) VALUES (:id, 'alice', 'L', 'a0', false, :at, :at, 2)"
            ),
            _values(sqlite, id=list_id, at=WHEN),
        )
        await connection.execute(
            text("UPDATE tasks SET list_id = :list_id"), _values(sqlite, list_id=list_id)
        )
        counts = await connection.execute(text("SELECT task_count, open_task_count FROM lists"))
        assert tuple(counts.one()) == (1, 1)
        await connection.execute(text("UPDATE tasks SET list_id = NULL"))
    assert await task_rows(empty_engine) == before

    await downgrade_to(empty_engine, "0008")
    assert await task_rows(empty_engine) == before
    await insert_task(empty_engine, uuid.uuid4(), version=5)
    async with empty_engine.connect() as connection:
        if connection.dialect.name == "sqlite":  # 0008's triggers are back and work
            seqs = await connection.execute(text("SELECT seq FROM events ORDER BY seq"))
            assert 5 in [row[0] for row in seqs]
        columns = await connection.execute(text("SELECT * FROM tasks LIMIT 1"))
        assert "list_id" not in columns.keys()
