"""Revision 0002 (due, priority, tags, completed_at, sort keys) on a database full of tasks
written by revision 0001: every existing task survives unchanged, is findable, and the way
back restores exactly the old table. Both databases."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Boolean, String, Uuid, column, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.migrate import alembic_config, current_revision, upgrade_to_head
from app.models.base import UTCDateTime
from tests.db.test_migrations import (  # noqa: F401 (fixtures)
    empty_database_url,
    empty_engine,
    table_names,
)
from tests.support.helpers import ALICE, BOB, auth, make_settings, running_app

OLD_COLUMNS = "id, user_id, title, description, is_completed, created_at, updated_at"
# The table as revision 0001 made it.
TASKS_0001 = table(
    "tasks",
    column("id", Uuid()),
    column("user_id", String()),
    column("title", String()),
    column("description", String()),
    column("is_completed", Boolean()),
    column("created_at", UTCDateTime()),
    column("updated_at", UTCDateTime()),
)


async def migrate_to(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


def old_rows(count: int) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    titles = ["Straße", "Café", "😀 emoji", "plain", "x" * 190]
    return [
        {
            "id": uuid.uuid4(),
            "user_id": ALICE if n % 3 else BOB,
            "title": titles[n % len(titles)] + f" {n}",
            "description": None if n % 2 else f"Desc {n} ÄÖÜ",
            "is_completed": n % 4 == 0,
            "created_at": start + timedelta(minutes=n),
            "updated_at": start + timedelta(minutes=n, seconds=30),
        }
        for n in range(count)
    ]


async def snapshot(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT {OLD_COLUMNS} FROM tasks ORDER BY id"))
        return [tuple(row) for row in rows]


async def test_upgrade_keeps_every_existing_task_and_downgrade_restores_the_table(
    empty_database_url: str,  # noqa: F811
    empty_engine: AsyncEngine,  # noqa: F811
) -> None:
    await migrate_to(empty_engine, "0001")
    rows = old_rows(2500)  # more than one batch of the key backfill
    async with empty_engine.begin() as connection:
        await connection.execute(TASKS_0001.insert(), rows)
    before = await snapshot(empty_engine)
    assert len(before) == 2500

    await upgrade_to_head(empty_engine)

    assert await snapshot(empty_engine) == before
    async with empty_engine.connect() as connection:
        new = (
            await connection.execute(
                text(
                    "SELECT count(*), min(priority), max(priority), min(tags), max(tags), "
                    "count(completed_at), count(due_date), count(due_at) FROM tasks"
                )
            )
        ).one()
        keyed = (
            await connection.execute(
                text("SELECT title, title_key FROM tasks WHERE title LIKE 'Straße%' LIMIT 1")
            )
        ).one()
    assert tuple(new) == (2500, 0, 0, "[]", "[]", 0, 0, 0)
    assert keyed.title_key == keyed.title.casefold()

    settings = make_settings(database_url=empty_database_url)
    async with running_app(settings) as (_, client):
        found = await client.get("/api/tasks?q=STRASSE&limit=500", headers=auth(ALICE))
        titled = await client.get("/api/tasks?sort=title&limit=3", headers=auth(BOB))
    assert found.status_code == 200, found.text
    expected = sorted(r["title"] for r in rows if r["user_id"] == ALICE and "Straße" in r["title"])
    assert sorted(task["title"] for task in found.json()) == expected
    assert all(task["priority"] == "none" and task["tags"] == [] for task in found.json())
    assert [task["title"] for task in titled.json()] == sorted(
        (r["title"] for r in rows if r["user_id"] == BOB), key=str.casefold
    )[:3]

    await migrate_to(empty_engine, "0001", down=True)
    assert await current_revision(empty_engine) == "0001"
    assert await snapshot(empty_engine) == before
    assert "task_tags" not in await table_names(empty_engine)
    await upgrade_to_head(empty_engine)
    assert await snapshot(empty_engine) == before
