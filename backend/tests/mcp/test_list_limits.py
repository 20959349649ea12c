"""MAX_TASKS_PER_LIST holds through every MCP tool that puts tasks in a list (a server of its
own, with a list of two)."""

import uuid

import pytest

from tests.mcp.conftest import Served, call, mcp_client, refused
from tests.mcp.test_lists import lists_of_tasks, make_list
from tests.support.helpers import ALICE, make_task


@pytest.fixture(scope="module")
def mcp_settings() -> dict[str, str]:
    return {"max_tasks_per_list": "2"}


async def test_no_tool_puts_more_tasks_in_a_list_than_it_may_hold(served: Served) -> None:
    small = await make_list(served, "Small")
    await make_task(served.app, ALICE, title="in it", list_id=uuid.UUID(small))
    third = await make_task(served.app, ALICE, title="third")
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        add = await refused(
            client,
            "add_tasks",
            tasks=[{"title": "a"}, {"title": "b"}],
            in_list="small",
            idempotency_key="k",
        )
        second = await call(
            client, "add_tasks", tasks=[{"title": "second"}], in_list=small, idempotency_key="j"
        )
        move = await refused(client, "move_tasks", moves=[{"id": str(third.id), "in_list": small}])
        update = await refused(
            client, "update_tasks", updates=[{"id": str(third.id), "changes": {"list_id": small}}]
        )

    assert second["tasks"][0]["list_id"] == small
    for text in (add, move, update):
        assert "as many tasks as this server allows" in text
    assert await lists_of_tasks(served) == {"in it": small, "second": small, "third": None}
