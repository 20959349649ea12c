"""PostgreSQL's plans for the list queries: with a user of 20,000 tasks among 60,000, every
common filter and sort reads one of its indexes and never scans the table (the EXPLAIN
evidence of issue 10; timings for 100 vs 100,000 tasks are printed by bench/list_scaling.py).

The statements are the app's own: captured as the repository sends them, then EXPLAINed."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.tasks import list_repository as task_list
from app.tasks import tree_repository
from app.tasks.query import DueBound, TaskFilter, TaskQuery
from app.tasks.repository import children_count_statement, list_tasks
from bench.seed_many import seed_postgres
from tests.support.clock import START

OWNER = "plan-owner"
NOW = START


async def _seed(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DELETE FROM tasks")
            for owner in (OWNER, "other-1", "other-2"):
                await seed_postgres(connection, owner, 20_000)
        async with engine.connect() as connection:
            await connection.exec_driver_sql("ANALYZE tasks")
            await connection.exec_driver_sql("ANALYZE task_tags")
            await connection.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def seeded_url(postgres_url: str) -> Iterator[str]:
    """This worker's PostgreSQL test database with 60,000 tasks, emptied afterwards (every other
    test empties the table before it starts anyway)."""
    asyncio.run(_seed(postgres_url))
    yield postgres_url
    asyncio.run(_empty(postgres_url))


async def _empty(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DELETE FROM tasks")
    await engine.dispose()


@pytest.fixture
async def engine(seeded_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(seeded_url)
    yield engine
    await engine.dispose()


async def plan_of(connection: AsyncConnection, run: Any) -> str:
    """The plan of the one statement `run(connection)` sends."""
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(connection.sync_connection, "before_cursor_execute", capture)
    try:
        await run(connection)
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    rows = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in rows)


def query(sort: str = "-created_at", **filters: Any) -> TaskQuery:
    return TaskQuery(
        TaskFilter(**filters),
        sort=sort.lstrip("-"),  # type: ignore[arg-type]
        descending=sort.startswith("-"),
        uses_cursor=True,
    )


AFTER_TITLE = task_list.After(query("title"), "task 010000", uuid.UUID(int=0))
CASES = {
    "title": (query("title"), None, "ix_tasks_user_id_title_key_id"),
    "-title": (query("-title"), None, "ix_tasks_user_id_title_key_id"),
    "due": (query("due"), None, "ix_tasks_user_id_due_key_id"),
    "-due": (query("-due"), None, "ix_tasks_user_id_due_key_desc_id"),
    "priority": (query("priority"), None, "ix_tasks_user_id_priority_id"),
    "-priority": (query("-priority"), None, "ix_tasks_user_id_priority_id"),
    "updated_at": (query("updated_at"), None, "ix_tasks_user_id_updated_at_id"),
    "open, newest first": (query(completed=False), None, "ix_tasks_user_id_created_at_id"),
    "high or medium": (query(priorities=(2, 3)), None, "ix_tasks_user_id_created_at_id"),
    # Either way round: walk the sort index and probe each task's tag, or start from the tag.
    "tag": (query(tags=("work",)), None, "pk_task_tags|ix_task_tags_user_id_name_key_task_id"),
    "due this week, soonest first": (
        query(
            "due",
            due_after=DueBound.after(datetime(2026, 11, 29, tzinfo=UTC).date()),
            due_before=DueBound.before(datetime(2026, 12, 7, tzinfo=UTC).date()),
        ),
        None,
        "ix_tasks_user_id_due_key_id",
    ),
    "overdue, soonest first": (query("due", overdue=True), None, "ix_tasks_user_id_due_key_id"),
    "title, after a cursor": (query("title"), AFTER_TITLE, "ix_tasks_user_id_title_key_id"),
    # Issue 17: the user's own order, all tasks, top-level ones, and one parent's children.
    "position": (query("position"), None, "ix_tasks_user_id_position_id"),
    "top level, position": (
        query("position", top_level=True),
        None,
        # Here every task is top-level: walking the position index and filtering is as good.
        "ix_tasks_user_id_parent_id_position_id|ix_tasks_user_id_position_id",
    ),
    "children, position": (
        query("position", parent=uuid.UUID(int=7)),
        None,
        "ix_tasks_user_id_parent_id_position_id",
    ),
    "children, newest first": (
        query(parent=uuid.UUID(int=7)),
        None,
        "ix_tasks_user_id_parent_id_position_id|ix_tasks_user_id_created_at_id",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_common_list_queries_use_an_index_and_never_scan_the_table(
    engine: AsyncEngine, name: str
) -> None:
    task_query, after, index = CASES[name]

    async def run(connection: AsyncConnection) -> None:
        await task_list.list_page(connection, OWNER, task_query, now=NOW, limit=21, after=after)

    async with engine.connect() as connection:
        plan = await plan_of(connection, run)

    assert any(name in plan for name in index.split("|")), plan
    assert "Seq Scan" not in plan, plan


async def test_the_default_list_uses_the_created_at_index(engine: AsyncEngine) -> None:
    async def run(connection: AsyncConnection) -> None:
        await list_tasks(connection, OWNER, limit=21, offset=0)

    async with engine.connect() as connection:
        plan = await plan_of(connection, run)

    assert "ix_tasks_user_id_created_at_id" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("text", ["zzzz", "task 0123"])
async def test_a_search_reads_the_trigram_indexes(engine: AsyncEngine, text: str) -> None:
    """`q=` (issue 23): the pg_trgm GIN indexes find the matching tasks, instead of a walk
    through every task of the user until a page is full."""

    async def run(connection: AsyncConnection) -> None:
        await task_list.list_page(connection, OWNER, query(text=text), now=NOW, limit=501)

    async with engine.connect() as connection:
        plan = await plan_of(connection, run)

    assert "ix_tasks_title_key_trgm" in plan, plan
    assert "ix_tasks_description_key_trgm" in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_a_subtree_is_read_through_the_parent_index(engine: AsyncEngine) -> None:
    """A cascade's read (complete, delete, a move's height) and the counts' recount, which
    counts one parent's children the same way, use `(user_id, parent_id, ...)`."""

    async def run(connection: AsyncConnection) -> None:
        await tree_repository.subtree(connection, OWNER, uuid.UUID(int=7))

    async with engine.connect() as connection:
        plan = await plan_of(connection, run)

    assert "ix_tasks_user_id_parent_id_position_id" in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_a_recount_counts_the_children_through_the_parent_index(engine: AsyncEngine) -> None:
    async def run(connection: AsyncConnection) -> None:
        await connection.execute(
            children_count_statement(), {"owner": OWNER, "task_id": uuid.UUID(int=7)}
        )

    async with engine.connect() as connection:
        plan = await plan_of(connection, run)

    assert "ix_tasks_user_id_parent_id_position_id" in plan, plan
    assert "Seq Scan" not in plan, plan
