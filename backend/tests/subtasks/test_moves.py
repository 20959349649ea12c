"""POST /api/tasks/{id}/move: a place among the target's children, one row written, every
refusal a 400 naming why with nothing moved. Both databases."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.subtasks.tree import children_ids, move, rows, subtask
from tests.support.helpers import ALICE, BOB, assert_error, auth, create_task


async def three(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [await create_task(client, title=name) for name in ("a", "b", "c")]


async def test_new_tasks_go_last_in_creation_order(client: httpx.AsyncClient) -> None:
    a, b, c = await three(client)

    assert await children_ids(client, "none") == [a["id"], b["id"], c["id"]]


async def test_move_after_before_first_and_last(client: httpx.AsyncClient) -> None:
    a, b, c = await three(client)

    assert (await move(client, a, after=b["id"])).status_code == 200
    assert await children_ids(client, "none") == [b["id"], a["id"], c["id"]]
    assert (await move(client, c, before=b["id"])).status_code == 200
    assert await children_ids(client, "none") == [c["id"], b["id"], a["id"]]
    assert (await move(client, a, place="first")).status_code == 200
    assert await children_ids(client, "none") == [a["id"], c["id"], b["id"]]
    assert (await move(client, a)).status_code == 200  # last by default
    assert await children_ids(client, "none") == [c["id"], b["id"], a["id"]]
    # A task created after a "last" move still goes after it.
    d = await create_task(client, title="d")
    assert await children_ids(client, "none") == [c["id"], b["id"], a["id"], d["id"]]


async def test_a_move_writes_one_row_and_moves_the_subtree(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    a, b, _ = await three(client)
    child = await subtask(client, a, title="child")
    grandchild = await subtask(client, child, title="grandchild")
    before = await rows(app)

    response = await move(client, a, parent_id=b["id"], place="first")

    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == b["id"]
    assert response.headers["ETag"] == response.json()["etag"]
    after = await rows(app)
    changed = {task_id for task_id in after if after[task_id].version != before[task_id].version}
    assert changed == {a["id"], b["id"]}  # the task, and its new parent's counts
    assert str(after[child["id"]].parent_id) == a["id"]
    assert str(after[grandchild["id"]].parent_id) == child["id"]
    assert (after[b["id"]].subtask_count, after[b["id"]].open_subtask_count) == (1, 1)
    assert await children_ids(client, b["id"]) == [a["id"]]


async def test_moving_out_updates_the_old_parents_counts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    parent = await create_task(client, title="parent")
    child = await subtask(client, parent, title="child")

    response = await move(client, child, parent_id=None)

    assert response.status_code == 200, response.text
    stored = await rows(app)
    assert stored[child["id"]].parent_id is None
    assert (stored[parent["id"]].subtask_count, stored[parent["id"]].open_subtask_count) == (0, 0)
    assert await children_ids(client, "none") == [parent["id"], child["id"]]


async def test_moving_an_open_task_under_a_completed_one_reopens_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    done = await create_task(client, title="done", is_completed=True)
    task = await create_task(client, title="open")

    assert (await move(client, task, parent_id=done["id"])).status_code == 200

    assert not (await rows(app))[done["id"]].is_completed


async def assert_nothing_moved(app: FastAPI, before: dict[str, object]) -> None:
    after = await rows(app)
    assert {key: row.model_dump() for key, row in after.items()} == before


async def snapshot(app: FastAPI) -> dict[str, object]:
    return {key: row.model_dump() for key, row in (await rows(app)).items()}


async def test_moving_under_itself_or_its_descendant_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="task")
    child = await subtask(client, task, title="child")
    grandchild = await subtask(client, child, title="grandchild")
    before = await snapshot(app)

    assert_error(await move(client, task, parent_id=task["id"]), 400, "PARENT_IS_SELF")
    assert_error(await move(client, task, parent_id=grandchild["id"]), 400, "PARENT_IN_SUBTREE")
    await assert_nothing_moved(app, before)


async def test_moving_next_to_a_non_sibling_or_into_another_users_task_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    a, b, _ = await three(client)
    child = await subtask(client, b, title="child of b")
    bobs = await create_task(client, BOB, title="bob's")
    before = await snapshot(app)

    assert_error(await move(client, a, after=child["id"]), 400, "ANCHOR_NOT_SIBLING")
    assert_error(await move(client, a, parent_id=b["id"], after=b["id"]), 400, "ANCHOR_NOT_SIBLING")
    assert_error(await move(client, a, after=a["id"]), 400, "ANCHOR_NOT_SIBLING")
    assert_error(await move(client, a, before=bobs["id"]), 400, "ANCHOR_NOT_SIBLING")
    assert_error(await move(client, a, parent_id=bobs["id"]), 400, "PARENT_NOT_FOUND")
    assert_error(await move(client, a, parent_id=str(uuid.uuid4())), 400, "PARENT_NOT_FOUND")
    assert_error(await move(client, bobs, place="first"), 403, "TASK_FORBIDDEN")
    assert_error(await move(client, a, after=b["id"], place="first"), 400, "VALIDATION_ERROR")
    await assert_nothing_moved(app, before)


async def test_a_move_past_the_depth_limit_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    deep = await create_task(client, title="1")
    for level in (2, 3):
        deep = await subtask(client, deep, title=str(level))
    branch = await create_task(client, title="branch")
    await subtask(client, branch, title="branch child")  # branch is two levels high
    before = await snapshot(app)

    assert_error(await move(client, branch, parent_id=deep["id"]), 400, "DEPTH_LIMIT_EXCEEDED")
    await assert_nothing_moved(app, before)


async def test_a_stale_if_match_moves_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    a, b, _ = await three(client)
    before = await snapshot(app)

    response = await client.post(
        f"/api/tasks/{a['id']}/move",
        json={"after": b["id"]},
        headers={**auth(ALICE), "If-Match": '"999"'},
    )

    assert_error(response, 412, "PRECONDITION_FAILED")
    assert response.headers["ETag"] == a["etag"]
    await assert_nothing_moved(app, before)


async def test_a_move_with_the_current_etag_moves(client: httpx.AsyncClient) -> None:
    a, b, c = await three(client)

    response = await client.post(
        f"/api/tasks/{a['id']}/move",
        json={"after": c["id"]},
        headers={**auth(ALICE), "If-Match": a["etag"]},
    )

    assert response.status_code == 200, response.text
    assert await children_ids(client, "none") == [b["id"], c["id"], a["id"]]


async def test_many_moves_into_one_gap_keep_a_strict_order_until_the_key_limit(
    client: httpx.AsyncClient,
) -> None:
    a, b, _ = await three(client)
    order = [a["id"], b["id"]]
    for n in range(12):
        task = await create_task(client, title=f"n{n}")
        response = await move(client, task, after=a["id"])
        assert response.status_code == 200, response.text
        order.insert(1, task["id"])
    listed = await children_ids(client, "none")
    assert [task_id for task_id in listed if task_id in order] == order


async def test_sort_position_pages_by_cursor_with_the_parent_filter(
    client: httpx.AsyncClient,
) -> None:
    parent = await create_task(client, title="parent")
    children = [(await subtask(client, parent, title=f"c{n}"))["id"] for n in range(5)]
    seen: list[str] = []
    url = f"/api/tasks?parent={parent['id']}&sort=position&limit=2"
    while url:
        response = await client.get(url, headers=auth(ALICE))
        assert response.status_code == 200, response.text
        seen += [task["id"] for task in response.json()]
        link = response.headers.get("Link")
        url = link.split(">")[0].lstrip("<") if link else ""
    assert seen == children
    backwards = await client.get(
        f"/api/tasks?parent={parent['id']}&sort=-position", headers=auth(ALICE)
    )
    assert [task["id"] for task in backwards.json()] == children[::-1]


async def test_a_bad_parent_filter_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tasks?parent=nope", headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR", mentions=("parent",))
