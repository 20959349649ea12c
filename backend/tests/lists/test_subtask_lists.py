"""A subtask is in its parent's list: created under a parent it takes the parent's list, and a
task that changes list (PUT `list_id`) carries its subtree, each descendant as its own change."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, events
from tests.lists.subtrees import changed_since, counts, lists_of, snapshot, sync_token, tree_in
from tests.support.helpers import ALICE, all_rows, assert_error, auth, create_task


async def test_a_subtask_takes_its_parents_list(client: httpx.AsyncClient, app: FastAPI) -> None:
    home = await create_list(client, name="home")

    tree = await tree_in(client, home["id"])

    assert [task["list_id"] for task in tree] == [home["id"]] * 3
    assert await lists_of(app, tree) == [home["id"]] * 3
    assert await counts(app) == {"home": (3, 2)}


async def test_a_subtask_may_name_its_parents_list(client: httpx.AsyncClient, app: FastAPI) -> None:
    home = await create_list(client, name="home")
    parent = await create_task(client, list_id=home["id"])

    child = await create_task(client, parent_id=parent["id"], list_id=home["id"])

    assert await lists_of(app, [child]) == [home["id"]]


async def test_a_subtask_in_another_list_than_its_parent_is_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    in_home = await create_task(client, list_id=home["id"])
    in_none = await create_task(client)
    before = await snapshot(app)

    for parent, list_id in ((in_home, work["id"]), (in_none, home["id"])):
        response = await client.post(
            "/api/tasks",
            json={"title": "step", "parent_id": parent["id"], "list_id": list_id},
            headers=auth(ALICE),
        )
        assert_error(response, 400, "SUBTASK_LIST_MISMATCH")
    assert await snapshot(app) == before


async def test_putting_a_task_in_another_list_carries_its_subtree(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    token = await sync_token(client)
    seen = len(await events(app, "task"))

    response = await client.put(
        f"/api/tasks/{tree[0]['id']}", json={"list_id": work["id"]}, headers=auth(ALICE)
    )

    assert response.status_code == 200, response.text
    new_events = (await events(app, "task"))[seen:]
    assert sorted(new_events) == sorted(("task", "updated", _hex(task)) for task in tree)
    assert response.json()["list_id"] == work["id"]
    assert await lists_of(app, tree) == [work["id"]] * 3
    assert await counts(app) == {"home": (0, 0), "work": (3, 2)}
    feed = await changed_since(client, token)
    # One change per task, each with its new list; the parents' links are untouched.
    assert sorted((task["id"], task["list_id"]) for task in feed["tasks"]) == sorted(
        (task["id"], work["id"]) for task in tree
    )
    assert {task["id"]: task["parent_id"] for task in feed["tasks"]} == {
        task["id"]: task["parent_id"] for task in tree
    }


async def test_taking_a_task_out_of_its_list_takes_its_subtree(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home = await create_list(client, name="home")
    tree = await tree_in(client, home["id"])

    response = await client.put(
        f"/api/tasks/{tree[0]['id']}", json={"list_id": None}, headers=auth(ALICE)
    )

    assert response.status_code == 200, response.text
    assert await lists_of(app, tree) == [None] * 3
    assert await counts(app) == {"home": (0, 0)}


async def test_a_subtask_cannot_be_put_in_another_list(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    before = await snapshot(app)

    for list_id in (work["id"], None):
        response = await client.put(
            f"/api/tasks/{tree[1]['id']}", json={"list_id": list_id}, headers=auth(ALICE)
        )
        assert_error(response, 400, "SUBTASK_LIST_MISMATCH")
    same = await client.put(
        f"/api/tasks/{tree[1]['id']}", json={"list_id": home["id"]}, headers=auth(ALICE)
    )

    assert same.status_code == 200
    assert await snapshot(app) == before  # the same list: nothing really changed


@pytest.mark.parametrize("settings_overrides", [{"max_tasks_per_list": 3}])
async def test_a_subtree_too_big_for_the_target_list_moves_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    await create_task(client, list_id=work["id"])  # work: 1 + 3 > MAX_TASKS_PER_LIST (3)
    before = await snapshot(app)

    response = await client.put(
        f"/api/tasks/{tree[0]['id']}", json={"list_id": work["id"]}, headers=auth(ALICE)
    )

    assert_error(response, 409, "LIST_FULL")
    assert await snapshot(app) == before


async def test_deleting_a_list_into_another_keeps_its_subtrees_whole(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    await create_task(client, list_id=work["id"], is_completed=True)
    token = await sync_token(client)

    response = await client.delete(
        f"/api/lists/{home['id']}?move_to={work['id']}", headers=auth(ALICE)
    )

    assert response.status_code == 204, response.text
    assert await lists_of(app, tree) == [work["id"]] * 3
    assert await counts(app) == {"work": (4, 2)}
    feed = await changed_since(client, token)
    assert {task["id"]: (task["parent_id"], task["list_id"]) for task in feed["tasks"]} == {
        task["id"]: (task["parent_id"], work["id"]) for task in tree
    }
    assert feed["deleted_lists"] == [home["id"]]


async def test_deleting_a_list_with_its_tasks_deletes_their_subtrees(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    tree = await tree_in(client, home["id"])
    kept = await create_task(client, list_id=work["id"])
    token = await sync_token(client)

    response = await client.delete(f"/api/lists/{home['id']}?tasks=delete", headers=auth(ALICE))

    assert response.status_code == 204, response.text
    assert [str(row["id"]) for row in await all_rows(app)] == [kept["id"]]
    assert await counts(app) == {"work": (1, 1)}
    feed = await changed_since(client, token)
    assert sorted(feed["deleted"]) == sorted(task["id"] for task in tree)


def _hex(task: dict[str, Any]) -> str:
    return uuid.UUID(task["id"]).hex
