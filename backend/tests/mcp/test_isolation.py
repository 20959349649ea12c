"""One user's assistant never sees or changes another user's tasks, not even by id; and the
REST API and MCP read and write the same tasks."""

import uuid

from tests.mcp.conftest import Served, call, http, mcp_client, refused
from tests.support.clock import wall_now
from tests.support.helpers import ALICE, BOB, all_tasks, auth, make_task


async def test_a_user_never_sees_or_changes_another_users_tasks(served: Served) -> None:
    bobs = await make_task(served.app, BOB, title="Bob's secret", due_date=wall_now().date())
    before = await all_tasks(served.app)
    bob_id = str(bobs.id)
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        found = await call(client, "find_tasks", completed=None, text="secret")
        overview = await call(client, "overview")
        errors = [
            await refused(client, "complete_tasks", ids=[bob_id]),
            await refused(
                client, "update_tasks", updates=[{"id": bob_id, "changes": {"title": "mine"}}]
            ),
            await refused(client, "reschedule_tasks", tasks=[{"id": bob_id}]),
            await refused(client, "move_tasks", moves=[{"id": bob_id, "to": {"place": "first"}}]),
        ]
        mine = await call(client, "add_tasks", tasks=[{"title": "mine"}], idempotency_key="k")
        under_bobs = await refused(
            client,
            "move_tasks",
            moves=[{"id": mine["tasks"][0]["id"], "to": {"parent_id": bob_id}}],
        )
        add_under_bobs = await refused(
            client, "add_tasks", tasks=[{"title": "x", "parent_id": bob_id}], idempotency_key="j"
        )

    assert found["tasks"] == []
    assert overview["open"] == 0
    for text in errors:
        # The same words as for an id that exists nowhere: no hint that Bob's task exists.
        assert f"No task {bob_id} among this user's tasks" in text
    for text in (under_bobs, add_under_bobs):
        assert "nothing was changed" in text
    rows = await all_tasks(served.app)
    bobs_rows = [row.model_dump() for row in rows if row.user_id == BOB]
    assert bobs_rows == [row.model_dump() for row in before]
    assert [(row.title, row.parent_id) for row in rows if row.user_id == ALICE] == [("mine", None)]


async def test_idempotency_keys_are_per_user(served: Served) -> None:
    tasks = [{"title": "same words"}]
    async with mcp_client(served.mcp_url, served.token(ALICE)) as alice:
        await call(alice, "add_tasks", tasks=tasks, idempotency_key="shared")
    async with mcp_client(served.mcp_url, served.token(BOB)) as bob:
        bobs = await call(bob, "add_tasks", tasks=tasks, idempotency_key="shared")

    assert bobs["replayed"] is False
    assert sorted(row.user_id for row in await all_tasks(served.app)) == sorted([ALICE, BOB])


async def test_rest_and_mcp_see_the_same_tasks(served: Served) -> None:
    api = f"{served.base_url}/api/tasks"
    made = await http(
        "POST", api, json={"title": "from the app", "tags": ["home"]}, headers=auth(ALICE)
    )
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        found = await call(client, "find_tasks")
        added = await call(
            client, "add_tasks", tasks=[{"title": "from the chat"}], idempotency_key="k"
        )
        task_id = added["tasks"][0]["id"]
        updated = await call(
            client, "update_tasks", updates=[{"id": task_id, "changes": {"priority": "low"}}]
        )

    assert made.status_code == 201
    assert found["tasks"] == [made.json()]
    read_back = await http("GET", f"{api}/{task_id}", headers=auth(ALICE))
    assert read_back.json() == updated["tasks"][0]
    assert read_back.headers["etag"] == updated["tasks"][0]["etag"]


async def test_a_user_never_finds_adds_into_or_moves_into_another_users_list(
    served: Served,
) -> None:
    bobs_list = await http(
        "POST", f"{served.base_url}/api/lists", json={"name": "Shopping"}, headers=auth(BOB)
    )
    bob_list_id = bobs_list.json()["id"]
    await make_task(served.app, BOB, title="Bob's milk", list_id=uuid.UUID(bob_list_id))
    mine = await make_task(served.app, ALICE, title="mine")
    before = await all_tasks(served.app)
    nobodys = str(uuid.uuid4())
    async with mcp_client(served.mcp_url, served.token(ALICE)) as client:
        found = await call(client, "find_lists")
        by_search = await call(client, "find_lists", name="shop")
        by_id = [
            await refused(client, "find_tasks", in_list=bob_list_id),
            await refused(
                client,
                "add_tasks",
                tasks=[{"title": "x"}],
                in_list=bob_list_id,
                idempotency_key="a",
            ),
            await refused(
                client, "move_tasks", moves=[{"id": str(mine.id), "in_list": bob_list_id}]
            ),
        ]
        unknown = await refused(client, "find_tasks", in_list=nobodys)
        by_name = [
            await refused(client, "find_tasks", in_list="Shopping"),
            await refused(
                client, "add_tasks", tasks=[{"title": "x"}], in_list="Shopping", idempotency_key="b"
            ),
            await refused(
                client, "move_tasks", moves=[{"id": str(mine.id), "in_list": "Shopping"}]
            ),
        ]
        # The REST body's own `list_id` goes through the same service check.
        own_field = await refused(
            client, "add_tasks", tasks=[{"title": "x", "list_id": bob_list_id}], idempotency_key="c"
        )
        update = await refused(
            client,
            "update_tasks",
            updates=[{"id": str(mine.id), "changes": {"list_id": bob_list_id}}],
        )

    assert found["lists"] == []
    assert by_search["lists"] == []
    for text in by_id:
        # Worded exactly as for an id that exists nowhere: no hint that Bob's list exists.
        assert text.split(": ", 1)[1] == unknown.split(": ", 1)[1].replace(nobodys, bob_list_id)
    for text in by_name:
        assert "No list is named" in text
        assert bob_list_id not in text
    for text in (own_field, update):
        assert "none of your lists" in text
        assert "nothing was changed" in text
    assert [row.model_dump() for row in await all_tasks(served.app)] == [
        row.model_dump() for row in before
    ]
    bobs = await http("GET", f"{served.base_url}/api/lists", headers=auth(BOB))
    assert [(item["id"], item["task_count"]) for item in bobs.json()] == [(bob_list_id, 1)]
