"""Each tool through the SDK's client against a live server, on SQLite and PostgreSQL: its
result, and what the database holds afterwards."""

import uuid
from datetime import timedelta

from tests.mcp.conftest import Served, call, mcp_client, refused
from tests.support.clock import wall_now
from tests.support.helpers import ALICE, all_tasks, make_task

WRITES = {"add_tasks", "update_tasks", "complete_tasks", "reschedule_tasks", "move_tasks"}


async def test_every_tool_has_schemas_and_annotations(served: Served) -> None:
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(listed) == {"find_tasks", "find_lists", "overview", *WRITES}
    for name, tool in listed.items():
        assert tool.input_schema["type"] == "object", name
        assert tool.output_schema is not None, name
        assert tool.annotations is not None, name
        assert tool.annotations.read_only_hint is (name not in WRITES), name
        assert tool.annotations.open_world_hint is False, name
        if name in WRITES:
            assert tool.annotations.idempotent_hint is True, name
    assert listed["update_tasks"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert listed["add_tasks"].annotations.destructive_hint is False  # type: ignore[union-attr]
    assert "idempotency_key" in listed["add_tasks"].input_schema["required"]


async def test_add_tasks_creates_several_at_once_and_a_retry_creates_nothing(
    served: Served,
) -> None:
    tasks = [
        {"title": "Buy milk", "tags": ["shopping"], "priority": "high"},
        {"title": "Call mum", "due_date": "2026-12-24", "description": "about Christmas"},
    ]
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        first = await call(client, "add_tasks", tasks=tasks, idempotency_key="add-1")
        again = await call(client, "add_tasks", tasks=tasks, idempotency_key="add-1")
        other = await refused(
            client, "add_tasks", tasks=[{"title": "Other"}], idempotency_key="add-1"
        )

    assert [task["title"] for task in first["tasks"]] == ["Buy milk", "Call mum"]
    assert first["tasks"][0]["tags"] == ["shopping"]
    assert first["tasks"][1]["due_date"] == "2026-12-24"
    assert first["replayed"] is False
    assert again == {**first, "replayed": True}
    assert "idempotency_key was used before" in other
    rows = await all_tasks(served.app)
    assert sorted((row.user_id, row.title) for row in rows) == [
        (ALICE, "Buy milk"),
        (ALICE, "Call mum"),
    ]


async def test_add_tasks_is_all_or_nothing(served: Served) -> None:
    tasks = [{"title": "fine"}, {"title": "   "}]
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        text = await refused(client, "add_tasks", tasks=tasks, idempotency_key="bad-1")

    assert "tasks.1.title" in text
    assert await all_tasks(served.app) == []


async def test_find_tasks_filters_sorts_and_pages(served: Served) -> None:
    today = wall_now().date()
    await make_task(served.app, ALICE, title="Buy milk", due_date=today + timedelta(days=2))
    await make_task(served.app, ALICE, title="Buy bread", due_date=today - timedelta(days=2))
    await make_task(served.app, ALICE, title="Pay rent", priority=3)
    await make_task(served.app, ALICE, title="Bought", is_completed=True)
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        by_text = await call(client, "find_tasks", text="BUY")
        overdue = await call(client, "find_tasks", overdue=True)
        high = await call(client, "find_tasks", priorities=["high"])
        done = await call(client, "find_tasks", completed=True)
        first = await call(client, "find_tasks", completed=None, sort="title", limit=2)
        rest = await call(client, "find_tasks", completed=None, sort="title", limit=2, offset=2)
        due_soon = await call(
            client, "find_tasks", due_after=today.isoformat(), time_zone="Pacific/Auckland"
        )

    def titles(result: dict[str, object]) -> list[str]:
        return [task["title"] for task in result["tasks"]]  # type: ignore[attr-defined]

    assert titles(by_text) == ["Buy bread", "Buy milk"]  # soonest due first
    assert titles(overdue) == ["Buy bread"]
    assert titles(high) == ["Pay rent"]
    assert titles(done) == ["Bought"]
    assert titles(first) == ["Bought", "Buy bread"]
    assert first["next_offset"] == 2
    assert titles(rest) == ["Buy milk", "Pay rent"]
    assert rest["next_offset"] is None
    assert titles(due_soon) == ["Buy milk"]


async def test_update_tasks_changes_only_the_fields_sent(served: Served) -> None:
    milk = await make_task(served.app, ALICE, title="Buy milk", description="2 litres")
    rent = await make_task(served.app, ALICE, title="Pay rent")
    updates = [
        {"id": str(milk.id), "changes": {"title": "Buy oat milk", "tags": ["shopping"]}},
        {"id": str(rent.id), "changes": {"priority": "high", "description": None}},
    ]
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        result = await call(client, "update_tasks", updates=updates)

    assert [task["title"] for task in result["tasks"]] == ["Buy oat milk", "Pay rent"]
    rows = {row.id: row for row in await all_tasks(served.app)}
    assert rows[milk.id].title == "Buy oat milk"
    assert rows[milk.id].description == "2 litres"
    assert rows[rent.id].priority == 3  # stored as its rank


async def test_a_refused_item_leaves_the_whole_batch_unwritten(served: Served) -> None:
    milk = await make_task(served.app, ALICE, title="Buy milk")
    missing = uuid.uuid4()
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        text = await refused(client, "complete_tasks", ids=[str(milk.id), str(missing)])

    assert f"No task {missing} among this user's tasks" in text
    assert [row.is_completed for row in await all_tasks(served.app)] == [False]


async def test_complete_tasks_completes_and_reopens(served: Served) -> None:
    milk = await make_task(served.app, ALICE, title="Buy milk")
    rent = await make_task(served.app, ALICE, title="Pay rent")
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        done = await call(client, "complete_tasks", ids=[str(milk.id), str(rent.id)])
        again = await call(client, "complete_tasks", ids=[str(milk.id)])
        reopened = await call(client, "complete_tasks", ids=[str(rent.id)], completed=False)

    assert [task["is_completed"] for task in done["tasks"]] == [True, True]
    assert again["tasks"][0] == done["tasks"][0]  # a retry changes nothing
    assert reopened["tasks"][0]["completed_at"] is None
    rows = {row.id: row for row in await all_tasks(served.app)}
    assert rows[milk.id].is_completed
    assert rows[milk.id].completed_at is not None
    assert not rows[rent.id].is_completed


async def test_reschedule_tasks_sets_or_clears_the_due_and_nothing_else(served: Served) -> None:
    milk = await make_task(served.app, ALICE, title="Buy milk", priority=2, tags=["shop"])
    rent = await make_task(served.app, ALICE, title="Pay rent", due_date=wall_now().date())
    call_at = "2026-12-01T17:00:00+01:00"
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        result = await call(
            client,
            "reschedule_tasks",
            tasks=[{"id": str(milk.id), "due_at": call_at}, {"id": str(rent.id)}],
        )
        both = await refused(
            client,
            "reschedule_tasks",
            tasks=[{"id": str(milk.id), "due_at": call_at, "due_date": "2026-12-02"}],
        )

    assert result["tasks"][0]["due_at"] == "2026-12-01T16:00:00Z"
    assert result["tasks"][0]["priority"] == "medium"
    assert result["tasks"][1]["due_date"] is None
    assert "not both" in both
    rows = {row.id: row for row in await all_tasks(served.app)}
    assert rows[rent.id].due_date is None
    assert rows[rent.id].due_at is None
    assert rows[milk.id].title == "Buy milk"


async def test_overview_counts_overdue_today_and_upcoming(served: Served) -> None:
    now = wall_now()
    today = now.date()
    dues: list[tuple[str, dict[str, object]]] = [
        ("yesterday", {"due_date": today - timedelta(days=1)}),
        ("an hour ago", {"due_at": now - timedelta(hours=1)}),
        ("today", {"due_date": today}),
        ("in 3 days", {"due_date": today + timedelta(days=3)}),
        ("in 10 days", {"due_date": today + timedelta(days=10)}),
        ("no due", {}),
    ]
    for title, due in dues:
        await make_task(served.app, ALICE, title=title, **due)
    await make_task(served.app, ALICE, title="done", is_completed=True, due_date=today)
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        result = await call(client, "overview", time_zone="UTC")

    assert result == {
        "today": today.isoformat(),
        "time_zone": "UTC",
        "overdue": 2,
        "due_today": 1,
        "upcoming": 1,
        "open": 6,
    }


async def test_bad_input_is_a_tool_error_a_model_can_act_on(served: Served) -> None:
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        zone = await refused(client, "overview", time_zone="Mars/Olympus")
        not_uuid = await refused(client, "complete_tasks", ids=["milk"])
        empty = await refused(client, "update_tasks", updates=[])
        unknown = await refused(
            client, "add_tasks", tasks=[{"title": "x", "owner": "bob"}], idempotency_key="k"
        )

    assert "use an IANA name such as 'Europe/Paris'" in zone
    assert "ids.0" in not_uuid
    assert "updates" in empty
    assert "owner" in unknown
    assert "Extra inputs are not permitted" in unknown
    for text in (zone, not_uuid, empty, unknown):
        assert "Traceback" not in text
    assert await all_tasks(served.app) == []


async def test_move_tasks_moves_under_another_task_and_back(served: Served) -> None:
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        added = await call(
            client,
            "add_tasks",
            tasks=[{"title": "Groceries"}, {"title": "Milk"}],
            idempotency_key="m",
        )
        groceries, milk = (task["id"] for task in added["tasks"])
        under = await call(
            client, "move_tasks", moves=[{"id": milk, "to": {"parent_id": groceries}}]
        )
        into_itself = await refused(
            client, "move_tasks", moves=[{"id": groceries, "to": {"parent_id": milk}}]
        )
        back = await call(
            client, "move_tasks", moves=[{"id": milk, "to": {"parent_id": None, "place": "first"}}]
        )
        found = await call(client, "find_tasks", sort="created_at")

    assert under["tasks"][0]["parent_id"] == groceries
    assert "nothing was changed" in into_itself
    assert back["tasks"][0]["parent_id"] is None
    assert [task["subtask_count"] for task in found["tasks"]] == [0, 0]
    rows = {str(row.id): row for row in await all_tasks(served.app)}
    assert rows[milk].parent_id is None
    assert rows[groceries].parent_id is None
