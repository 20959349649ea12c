"""Subtasks: parents, the counts kept on the parent row, and the rules of completing,
reopening and deleting (README "Subtasks and a manual order"). Both databases."""

import uuid

import httpx
from fastapi import FastAPI

from tests.subtasks.tree import children_ids, events, rows, subtask
from tests.support.helpers import ALICE, BOB, assert_error, auth, create_task


async def test_a_subtask_names_its_parent_and_the_parent_counts_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    parent = await create_task(client, title="parent")
    child = await subtask(client, parent, title="child")
    done = await subtask(client, parent, title="done", is_completed=True)

    assert child["parent_id"] == parent["id"]
    got = (await client.get(f"/api/tasks/{parent['id']}", headers=auth(ALICE))).json()
    assert (got["subtask_count"], got["open_subtask_count"]) == (2, 1)
    assert got["etag"] != parent["etag"]  # the counts are part of the body, so of the version
    stored = await rows(app)
    assert (stored[parent["id"]].subtask_count, stored[parent["id"]].open_subtask_count) == (2, 1)
    assert str(stored[done["id"]].parent_id) == parent["id"]
    assert await children_ids(client, parent["id"]) == [child["id"], done["id"]]
    assert await children_ids(client, "none") == [parent["id"]]


async def test_a_parent_of_another_user_or_none_is_the_same_400_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    bobs = await create_task(client, BOB, title="bob's")
    for parent_id in (bobs["id"], str(uuid.uuid4())):
        response = await client.post(
            "/api/tasks", json={"title": "x", "parent_id": parent_id}, headers=auth(ALICE)
        )
        assert_error(response, 400, "PARENT_NOT_FOUND")
    assert list(await rows(app)) == [bobs["id"]]


async def test_nesting_deeper_than_the_limit_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="level 1")
    for level in range(2, 5):
        task = await subtask(client, task, title=f"level {level}")

    response = await client.post(
        "/api/tasks", json={"title": "level 5", "parent_id": task["id"]}, headers=auth(ALICE)
    )

    assert_error(response, 400, "DEPTH_LIMIT_EXCEEDED", mentions=("4",))
    assert len(await rows(app)) == 4


async def test_completing_a_parent_completes_its_open_descendants_each_with_an_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    parent = await create_task(client, title="parent")
    child = await subtask(client, parent, title="child")
    grandchild = await subtask(client, child, title="grandchild")
    seq_before = max(event.seq for event in await events(app))

    response = await client.put(
        f"/api/tasks/{parent['id']}", json={"is_completed": True}, headers=auth(ALICE)
    )

    assert response.status_code == 200, response.text
    assert response.json()["open_subtask_count"] == 0
    stored = await rows(app)
    for task in (parent, child, grandchild):
        assert stored[task["id"]].is_completed
        assert stored[task["id"]].completed_at is not None
    completed = [
        str(event.entity_id)
        for event in await events(app)
        if event.seq > seq_before and event.kind == "completed"
    ]
    assert sorted(completed) == sorted([parent["id"], child["id"], grandchild["id"]])


async def test_reopening_a_subtask_reopens_its_completed_ancestors(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    parent = await create_task(client, title="parent")
    child = await subtask(client, parent, title="child")
    grandchild = await subtask(client, child, title="grandchild")
    await client.put(f"/api/tasks/{parent['id']}", json={"is_completed": True}, headers=auth(ALICE))

    response = await client.put(
        f"/api/tasks/{grandchild['id']}", json={"is_completed": False}, headers=auth(ALICE)
    )

    assert response.status_code == 200, response.text
    stored = await rows(app)
    for task in (parent, child, grandchild):
        assert not stored[task["id"]].is_completed
        assert stored[task["id"]].completed_at is None
    assert (stored[parent["id"]].open_subtask_count, stored[child["id"]].open_subtask_count) == (
        1,
        1,
    )


async def test_completing_every_subtask_leaves_the_parent_open(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    parent = await create_task(client, title="parent")
    child = await subtask(client, parent, title="child")

    await client.put(f"/api/tasks/{child['id']}", json={"is_completed": True}, headers=auth(ALICE))

    stored = await rows(app)
    assert not stored[parent["id"]].is_completed
    assert (stored[parent["id"]].subtask_count, stored[parent["id"]].open_subtask_count) == (1, 0)


async def test_deleting_a_parent_deletes_its_subtree_with_a_tombstone_each(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    keep = await create_task(client, title="keep")
    parent = await subtask(client, keep, title="parent")
    child = await subtask(client, parent, title="child")
    grandchild = await subtask(client, child, title="grandchild")

    response = await client.delete(f"/api/tasks/{parent['id']}", headers=auth(ALICE))

    assert response.status_code == 204
    stored = await rows(app)
    assert list(stored) == [keep["id"]]
    assert (stored[keep["id"]].subtask_count, stored[keep["id"]].open_subtask_count) == (0, 0)
    deleted = [str(event.entity_id) for event in await events(app) if event.kind == "deleted"]
    assert sorted(deleted) == sorted([parent["id"], child["id"], grandchild["id"]])


async def test_a_plain_task_is_still_one_statement_and_one_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="plain")
    before = len(await events(app))

    await client.put(f"/api/tasks/{task['id']}", json={"is_completed": True}, headers=auth(ALICE))

    assert [event.kind for event in await events(app)][before:] == ["completed"]
