"""PostgreSQL's plan for `?list=`: one list's tasks (and the tasks in no list) in the default
order read an index (`ix_tasks_user_id_list_id_created_at_id` for a list), in position order
`ix_tasks_user_id_list_id_position_id` (migration 0012), never the table
(the same seeded user of 20,000 tasks among 60,000 as tests/tasks/test_list_plans.py)."""

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.tasks import list_repository as task_list
from tests.tasks.test_list_plans import (  # noqa: F401 (fixtures)
    NOW,
    OWNER,
    engine,
    plan_of,
    query,
    seeded_url,
)

pytestmark = pytest.mark.usefixtures("postgres_url")


# Here every task is in no list: for `no list` the created_at index (all rows match) is as good.
@pytest.mark.parametrize(
    ("sort", "filters", "indexes"),
    [
        ("-created_at", {"list_id": uuid.UUID(int=1)}, ("ix_tasks_user_id_list_id_created_at_id",)),
        (
            "-created_at",
            {"no_list": True},
            ("ix_tasks_user_id_list_id_created_at_id", "ix_tasks_user_id_created_at_id"),
        ),
        ("position", {"list_id": uuid.UUID(int=1)}, ("ix_tasks_user_id_list_id_position_id",)),
        (
            "position",
            {"list_id": uuid.UUID(int=1), "top_level": True},
            ("ix_tasks_user_id_list_id_position_id",),
        ),
    ],
    ids=["one list", "no list", "one list by position", "a list's top level by position"],
)
async def test_a_lists_tasks_read_an_index(
    engine: AsyncEngine,  # noqa: F811
    sort: str,
    filters: dict[str, Any],
    indexes: tuple[str, ...],
) -> None:
    async def run(connection: AsyncConnection) -> None:
        statement = query(sort, **filters)
        await task_list.list_page(connection, OWNER, statement, now=NOW, limit=21)

    async with engine.connect() as connection:
        plan = await plan_of(connection, run)

    assert any(index in plan for index in indexes), plan
    assert "Seq Scan" not in plan, plan
