"""MAX_SUBTASKS_PER_PARENT and the feed: a parent past its limit is a 409 that writes nothing,
and subtask changes (the parent's counts included) travel through /api/tasks/changes."""

import httpx
import pytest
from fastapi import FastAPI

from tests.subtasks.tree import move, rows, subtask
from tests.support.helpers import ALICE, assert_error, auth, create_task


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_subtasks_per_parent": 2}


async def test_a_third_subtask_is_409_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    parent = await create_task(client, title="parent")
    for n in range(2):
        await subtask(client, parent, title=f"child {n}")
    loose = await create_task(client, title="loose")

    created = await client.post(
        "/api/tasks", json={"title": "third", "parent_id": parent["id"]}, headers=auth(ALICE)
    )
    moved = await move(client, loose, parent_id=parent["id"])

    assert_error(created, 409, "SUBTASK_LIMIT_REACHED", mentions=("2",))
    assert_error(moved, 409, "SUBTASK_LIMIT_REACHED")
    stored = await rows(app)
    assert len(stored) == 4
    assert stored[parent["id"]].subtask_count == 2
    assert stored[loose["id"]].parent_id is None


async def test_subtask_changes_and_the_parents_counts_are_in_the_changes_feed(
    client: httpx.AsyncClient,
) -> None:
    parent = await create_task(client, title="parent")
    token = (await client.get("/api/tasks/changes", headers=auth(ALICE))).json()["next_token"]

    child = await subtask(client, parent, title="child")
    feed = (await client.get(f"/api/tasks/changes?since={token}", headers=auth(ALICE))).json()

    by_id = {task["id"]: task for task in feed["tasks"]}
    assert by_id[child["id"]]["parent_id"] == parent["id"]
    assert by_id[parent["id"]]["subtask_count"] == 1
