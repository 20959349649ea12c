"""Migration 0008 forward and back with tasks already stored: they become top-level tasks with
no subtasks, in creation order; back, the columns go and every task stays. Both databases."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import column, insert, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import metadata
from tests.db.test_migrations import empty_database_url, empty_engine  # noqa: F401 (fixtures)
from tests.support.migrations import downgrade_to, migrate_to

COLUMNS = metadata.tables["tasks"].c
OLD = (
    *("id", "user_id", "title", "is_completed", "created_at", "updated_at", "priority", "tags"),
    *("title_key", "description_key", "due_key", "due_key_desc", "version"),
)


def old_task(n: int) -> dict[str, object]:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    return {
        "id": uuid.uuid4(),
        "user_id": "alice",
        "title": f"t{n}",
        "is_completed": False,
        "created_at": at,
        "updated_at": at,
        "priority": 0,
        "tags": [],
        "title_key": f"t{n}",
        "description_key": "",
        "due_key": 0,
        "due_key_desc": 0,
        "version": n + 1,
    }


async def test_existing_tasks_become_top_level_in_creation_order_and_survive_the_way_back(
    empty_engine: AsyncEngine,  # noqa: F811 (the fixture imported above)
) -> None:
    await migrate_to(empty_engine, "0007")
    tasks = [old_task(n) for n in (2, 0, 1)]
    old_table = table("tasks", *(column(name, COLUMNS[name].type) for name in OLD))
    async with empty_engine.begin() as connection:
        await connection.execute(insert(old_table), tasks)

    await migrate_to(empty_engine, "0008")

    async with empty_engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    COLUMNS.id,
                    COLUMNS.parent_id,
                    COLUMNS.subtask_count,
                    COLUMNS.open_subtask_count,
                ).order_by(COLUMNS.position, COLUMNS.id)
            )
        ).all()
    by_creation = sorted(tasks, key=lambda task: task["created_at"])  # type: ignore[arg-type, return-value]
    assert [row.id for row in rows] == [task["id"] for task in by_creation]
    assert {(row.parent_id, row.subtask_count, row.open_subtask_count) for row in rows} == {
        (None, 0, 0)
    }

    await downgrade_to(empty_engine, "0007")

    async with empty_engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM tasks"))
    assert count == 3
    await migrate_to(empty_engine, "head")
