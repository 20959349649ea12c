"""Lists through MCP, on SQLite and PostgreSQL: find_lists, a list (by id or by name) in
find_tasks, add_tasks and move_tasks, and a name that fits several lists or none; what the
database holds afterwards, and what the REST API sees."""

import uuid
from typing import Any

from tests.mcp.conftest import Served, call, http, mcp_client, refused
from tests.support.helpers import ALICE, all_tasks, auth, make_task


async def make_list(served: Served, name: str, user: str = ALICE, **body: Any) -> str:
    """A list made through the REST API, as the app makes them; its id."""
    made = await http(
        "POST", f"{served.base_url}/api/lists", json={"name": name, **body}, headers=auth(user)
    )
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    return list_id


async def rest_lists(served: Served, user: str = ALICE) -> list[dict[str, Any]]:
    answer = await http("GET", f"{served.base_url}/api/lists", headers=auth(user))
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()
    return found


async def lists_of_tasks(served: Served) -> dict[str, str | None]:
    """Each task's list, by title, straight from the database."""
    rows = await all_tasks(served.app)
    return {row.title: None if row.list_id is None else str(row.list_id) for row in rows}


async def test_find_lists_gives_ids_names_counts_and_filters(served: Served) -> None:
    shopping = await make_list(served, "Shopping")
    work = await make_list(served, "Work", archived=True)
    ideas = await make_list(served, "Shopping ideas")
    for title, done in (("milk", False), ("eggs", False), ("bread", True)):
        await make_task(
            served.app, ALICE, title=title, is_completed=done, list_id=uuid.UUID(shopping)
        )
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        every = await call(client, "find_lists")
        shop = await call(client, "find_lists", name="  SHOP ")
        active = await call(client, "find_lists", archived=False)
        blank = await call(client, "find_lists", name="")
        first = await call(client, "find_lists", limit=1)
        second = await call(client, "find_lists", limit=1, offset=1)

    assert [found["id"] for found in every["lists"]] == [shopping, work, ideas]
    assert every["lists"][0] == {
        "id": shopping,
        "name": "Shopping",
        "archived": False,
        "open_task_count": 2,
        "task_count": 3,
    }
    assert every["next_offset"] is None
    assert [found["id"] for found in shop["lists"]] == [shopping, ideas]
    assert [found["id"] for found in active["lists"]] == [shopping, ideas]
    assert blank == every
    assert (first["lists"][0]["id"], first["next_offset"]) == (shopping, 1)
    assert second["lists"][0]["id"] == work
    # The REST API sees the same lists, with the same counts.
    rest = await rest_lists(served)
    keys = ("id", "name", "archived", "open_task_count", "task_count")
    assert [{key: item[key] for key in keys} for item in rest] == every["lists"]


async def test_find_tasks_in_a_list_by_id_or_name_or_in_none(served: Served) -> None:
    shopping = await make_list(served, "Shopping list")
    work = await make_list(served, "Work")
    await make_task(served.app, ALICE, title="milk", list_id=uuid.UUID(shopping))
    await make_task(served.app, ALICE, title="report", list_id=uuid.UUID(work))
    await make_task(served.app, ALICE, title="call mum")
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        by_id = await call(client, "find_tasks", in_list=shopping)
        by_name = await call(client, "find_tasks", in_list="shopping  LIST")
        in_none = await call(client, "find_tasks", in_no_list=True)
        both = await refused(client, "find_tasks", in_list=work, in_no_list=True)

    assert [task["title"] for task in by_id["tasks"]] == ["milk"]
    assert by_name == by_id
    assert [task["title"] for task in in_none["tasks"]] == ["call mum"]
    assert "not both" in both
    rest = await http("GET", f"{served.base_url}/api/tasks?list={shopping}", headers=auth(ALICE))
    assert rest.json() == by_id["tasks"]


async def test_add_tasks_into_a_list_by_name_or_id_and_a_retry_adds_nothing(
    served: Served,
) -> None:
    shopping = await make_list(served, "Shopping")
    work = await make_list(served, "Work")
    tasks = [{"title": "milk"}, {"title": "eggs"}, {"title": "report", "list_id": work}]
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        added = await call(
            client, "add_tasks", tasks=tasks, in_list="shopping", idempotency_key="k1"
        )
        again = await call(
            client, "add_tasks", tasks=tasks, in_list="shopping", idempotency_key="k1"
        )
        by_id = await call(
            client, "add_tasks", tasks=[{"title": "tea"}], in_list=shopping, idempotency_key="k2"
        )

    assert [task["list_id"] for task in added["tasks"]] == [shopping, shopping, work]
    assert (again["replayed"], again["tasks"]) == (True, added["tasks"])
    assert by_id["tasks"][0]["list_id"] == shopping
    assert await lists_of_tasks(served) == {
        "milk": shopping, "eggs": shopping, "report": work, "tea": shopping,
    }  # fmt: skip
    counts = {item["id"]: item["open_task_count"] for item in await rest_lists(served)}
    assert counts == {shopping: 3, work: 1}


async def test_a_name_that_fits_several_lists_or_none_lists_the_candidates(
    served: Served,
) -> None:
    first = await make_list(served, "Groceries")
    second = await make_list(served, "groceries")
    weekend = await make_list(served, "Weekend shopping")
    new = [{"title": "milk"}]
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        several = await refused(
            client, "add_tasks", tasks=new, in_list="Groceries", idempotency_key="k"
        )
        close = await refused(client, "find_tasks", in_list="shopping")
        none = await refused(client, "find_tasks", in_list="Holidays")
        # The key was not spent on the refused call: the same key now adds the task.
        added = await call(client, "add_tasks", tasks=new, in_list=first, idempotency_key="k")

    assert "Several lists are named" in several
    assert first in several
    assert second in several
    assert weekend not in several
    assert "nothing was changed" in several
    assert "close name" in close
    assert weekend in close
    assert first not in close
    assert "No list is named" in none
    assert all(list_id in none for list_id in (first, second, weekend))
    assert added["replayed"] is False
    assert await lists_of_tasks(served) == {"milk": first}


async def test_move_tasks_into_a_list_out_of_it_and_in_the_tree(served: Served) -> None:
    shopping = await make_list(served, "Shopping")
    milk = await make_task(served.app, ALICE, title="milk")
    trip = await make_task(served.app, ALICE, title="trip", list_id=uuid.UUID(shopping))
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        into = await call(client, "move_tasks", moves=[{"id": str(milk.id), "in_list": "SHOPPING"}])
        # Under a parent, a task takes the parent's list; no other list is allowed there.
        under = await call(
            client, "move_tasks", moves=[{"id": str(milk.id), "to": {"parent_id": str(trip.id)}}]
        )
        elsewhere = await refused(
            client,
            "move_tasks",
            moves=[{"id": str(milk.id), "in_no_list": True, "to": {"parent_id": str(trip.id)}}],
        )
        nowhere = await refused(client, "move_tasks", moves=[{"id": str(milk.id)}])
        both = await refused(
            client,
            "move_tasks",
            moves=[{"id": str(milk.id), "in_list": shopping, "in_no_list": True}],
        )
        # All or none: the second item names no task, so the first does not move either.
        missing = str(uuid.uuid4())
        batch = await refused(
            client,
            "move_tasks",
            moves=[{"id": str(trip.id), "in_no_list": True}, {"id": missing, "in_list": shopping}],
        )

    assert into["tasks"][0]["list_id"] == shopping
    assert (under["tasks"][0]["list_id"], under["tasks"][0]["parent_id"]) == (
        shopping,
        str(trip.id),
    )
    assert "SUBTASK_LIST_MISMATCH" in elsewhere or "parent's list" in elsewhere
    assert "say where" in nowhere
    assert "not both" in both
    assert f"No task {missing}" in batch
    rows = {row.title: row for row in await all_tasks(served.app)}
    assert (rows["milk"].list_id, rows["milk"].parent_id) == (uuid.UUID(shopping), trip.id)
    assert rows["trip"].list_id == uuid.UUID(shopping)
    counts = {item["id"]: item["task_count"] for item in await rest_lists(served)}
    assert counts == {shopping: 2}


async def test_reschedule_changes_the_due_fields_and_nothing_else(served: Served) -> None:
    shopping = await make_list(served, "Shopping")
    task = await make_task(
        served.app,
        ALICE,
        title="milk",
        description="2 litres",
        priority=3,
        tags=["home"],
        list_id=uuid.UUID(shopping),
    )
    before = (await all_tasks(served.app))[0].model_dump()
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        await call(
            client, "reschedule_tasks", tasks=[{"id": str(task.id), "due_date": "2030-01-02"}]
        )

    after = (await all_tasks(served.app))[0].model_dump()
    changed = {key for key in before if before[key] != after[key]}
    assert changed <= {"due_date", "updated_at", "version"}
    assert str(after["due_date"]) == "2030-01-02"
