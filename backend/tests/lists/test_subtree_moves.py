"""A move between lists (POST /api/tasks/{id}/move, the batch's move and update) carries the
subtree in one transaction, one change per task; siblings are the same list and parent."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, events
from tests.lists.subtrees import changed_since, counts, lists_of, snapshot, sync_token, tree_in
from tests.support.helpers import ALICE, BOB, assert_error, auth, create_task


async def move(client: httpx.AsyncClient, task: dict[str, Any], **body: Any) -> httpx.Response:
    return await client.post(f"/api/tasks/{task['id']}/move", json=body, headers=auth(ALICE))


async def in_order(client: httpx.AsyncClient, list_id: str) -> list[str]:
    """The list's top-level tasks in position order, by title."""
    response = await client.get(
        "/api/tasks",
        params={"list": list_id, "parent": "none", "sort": "position"},
        headers=auth(ALICE),
    )
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


async def test_a_move_to_another_list_carries_the_subtree(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    await create_task(client, title="w1", list_id=work["id"])
    token = await sync_token(client)
    seen = len(await events(app, "task"))

    response = await move(client, tree[0], list_id=work["id"], place="first")

    assert response.status_code == 200, response.text
    moved = [(kind, uuid.UUID(id_)) for _, kind, id_ in (await events(app, "task"))[seen:]]
    assert sorted(moved) == sorted(("updated", uuid.UUID(task["id"])) for task in tree)
    assert response.json()["list_id"] == work["id"]
    assert await lists_of(app, tree) == [work["id"]] * 3
    assert await counts(app) == {"home": (0, 0), "work": (4, 3)}
    assert await in_order(client, work["id"]) == ["parent", "w1"]
    feed = await changed_since(client, token)
    assert sorted(task["id"] for task in feed["tasks"]) == sorted(task["id"] for task in tree)


async def test_a_move_under_a_parent_in_another_list_takes_that_list(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    boss = await create_task(client, title="boss", list_id=work["id"])

    response = await move(client, tree[0], parent_id=boss["id"])

    assert response.status_code == 200, response.text
    assert await lists_of(app, tree) == [work["id"]] * 3
    assert await counts(app) == {"home": (0, 0), "work": (4, 3)}


async def test_out_from_under_a_parent_into_another_list(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])

    response = await move(client, tree[1], parent_id=None, list_id=work["id"])

    assert response.status_code == 200, response.text
    assert await lists_of(app, tree) == [home["id"], work["id"], work["id"]]
    assert await counts(app) == {"home": (1, 1), "work": (2, 1)}
    parent = (await client.get(f"/api/tasks/{tree[0]['id']}", headers=auth(ALICE))).json()
    assert (parent["subtask_count"], parent["open_subtask_count"]) == (0, 0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"parent_id": "{boss}", "list_id": "{home}"}, "SUBTASK_LIST_MISMATCH"),
        ({"list_id": "{work}"}, "SUBTASK_LIST_MISMATCH"),  # keeps its parent: stays in home
        ({"list_id": None}, "SUBTASK_LIST_MISMATCH"),
        ({"parent_id": None, "list_id": "{bobs}"}, "INVALID_LIST_ID"),
        ({"parent_id": None, "after": "{w1}"}, "ANCHOR_NOT_SIBLING"),  # w1 is in work
        ({"parent_id": None, "list_id": "{work}", "before": "{parent}"}, "ANCHOR_NOT_SIBLING"),
    ],
)
async def test_a_refused_move_moves_nothing(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, Any], code: str
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    bobs = await create_list(client, BOB)
    tree = await tree_in(client, home["id"])
    boss = await create_task(client, title="boss", list_id=work["id"])
    w1 = await create_task(client, title="w1", list_id=work["id"])
    names = {"home": home, "work": work, "bobs": bobs, "boss": boss, "w1": w1, "parent": tree[0]}
    filled = {
        key: value if value is None else value.format(**{k: v["id"] for k, v in names.items()})
        for key, value in body.items()
    }
    before = await snapshot(app)

    response = await move(client, tree[1], **filled)

    assert_error(response, 400, code)
    assert await snapshot(app) == before


@pytest.mark.parametrize("settings_overrides", [{"max_tasks_per_list": 3}])
async def test_the_per_list_limit_counts_the_subtree_moved_in(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    await create_task(client, list_id=work["id"])
    before = await snapshot(app)

    response = await move(client, tree[0], list_id=work["id"])
    leaf = await move(client, tree[2], parent_id=None, list_id=work["id"])

    assert_error(response, 409, "LIST_FULL")
    assert leaf.status_code == 200  # one task fits
    assert (await snapshot(app))[0] != before[0]
    assert await lists_of(app, tree) == [home["id"], home["id"], work["id"]]


async def test_a_batch_move_carries_the_subtree_or_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    move_op = {"op": "move", "id": tree[0]["id"], "to": {"list_id": work["id"]}}
    failing = {"op": "update", "id": tree[1]["id"], "changes": {"list_id": home["id"]}}
    before = await snapshot(app)

    refused = await client.post(
        "/api/tasks/batch", json={"operations": [move_op, failing]}, headers=auth(ALICE)
    )
    assert_error(refused, 400, "SUBTASK_LIST_MISMATCH", mentions=("operations[1] (update)",))
    assert await snapshot(app) == before
    done = await client.post(
        "/api/tasks/batch", json={"operations": [move_op]}, headers=auth(ALICE)
    )

    assert done.status_code == 200, done.text
    assert await lists_of(app, tree) == [work["id"]] * 3
    assert await counts(app) == {"home": (0, 0), "work": (3, 2)}


@pytest.mark.parametrize("settings_overrides", [{"max_tasks_per_list": 3}])
async def test_a_batch_update_into_a_full_list_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    await create_task(client, list_id=work["id"])
    before = await snapshot(app)
    update = {"op": "update", "id": tree[0]["id"], "changes": {"list_id": work["id"]}}

    response = await client.post(
        "/api/tasks/batch", json={"operations": [update]}, headers=auth(ALICE)
    )

    assert_error(response, 409, "LIST_FULL")
    assert await snapshot(app) == before
