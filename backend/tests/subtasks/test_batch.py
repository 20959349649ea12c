"""POST /api/tasks/batch: in order, all or none, temp_id references, a result per operation,
an error naming the operation, Idempotency-Key. Both databases."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.subtasks.tree import children_ids, events, rows
from tests.support.helpers import ALICE, assert_error, auth, create_task


async def batch(client: httpx.AsyncClient, *operations: Any, **headers: str) -> httpx.Response:
    return await client.post(
        "/api/tasks/batch",
        json={"operations": list(operations)},
        headers={**auth(ALICE), **headers},
    )


async def test_creates_reference_earlier_creates_by_temp_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    trip, pack = str(uuid.uuid4()), str(uuid.uuid4())

    response = await batch(
        client,
        {"op": "create", "temp_id": trip, "task": {"title": "Trip"}},
        {"op": "create", "temp_id": pack, "task": {"title": "Pack", "parent_id": trip}},
        {"op": "create", "task": {"title": "Tickets", "parent_id": trip}},
        {"op": "move", "id": pack, "to": {"place": "last"}},
        {"op": "complete", "id": pack},
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["op"] for result in results] == [
        "create",
        "create",
        "create",
        "move",
        "complete",
    ]
    trip_id, pack_id, tickets_id = (results[n]["id"] for n in range(3))
    assert results[0]["temp_id"] == trip
    assert trip_id != trip
    assert results[1]["task"]["parent_id"] == trip_id
    assert results[4]["task"]["is_completed"] is True
    stored = await rows(app)
    assert (stored[trip_id].subtask_count, stored[trip_id].open_subtask_count) == (2, 1)
    assert await children_ids(client, trip_id) == [tickets_id, pack_id]


async def test_a_failed_operation_rolls_back_everything_and_is_named(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="keep")
    seq_before = max(event.seq for event in await events(app))

    response = await batch(
        client,
        {"op": "create", "task": {"title": "new"}},
        {"op": "update", "id": task["id"], "changes": {"title": "renamed"}},
        {"op": "update", "id": task["id"], "if_match": task["etag"], "changes": {"title": "x"}},
    )

    assert_error(response, 412, "PRECONDITION_FAILED", mentions=("operations[2] (update)",))
    stored = await rows(app)
    assert [row.title for row in stored.values()] == ["keep"]
    assert max(event.seq for event in await events(app)) == seq_before


async def test_every_operation_kind_and_a_result_each(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    a = await create_task(client, title="a")
    b = await create_task(client, title="b")
    parent = await create_task(client, title="parent")
    child = await create_task(client, title="child", parent_id=parent["id"])

    response = await batch(
        client,
        {"op": "update", "id": a["id"], "if_match": a["etag"], "changes": {"priority": "high"}},
        {"op": "move", "id": b["id"], "to": {"place": "first"}},
        {"op": "complete", "id": parent["id"]},
        {"op": "delete", "id": a["id"]},
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["task"]["priority"] == "high"
    assert results[3] == {"op": "delete", "id": a["id"], "temp_id": None, "task": None}
    stored = await rows(app)
    assert a["id"] not in stored
    assert stored[child["id"]].is_completed
    assert (await children_ids(client, "none"))[0] == b["id"]


async def test_too_many_operations_or_a_bad_one_is_a_400_that_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    too_many = [{"op": "create", "task": {"title": f"t{n}"}} for n in range(101)]
    assert_error(await batch(client, *too_many), 400, "VALIDATION_ERROR", mentions=("100",))
    assert_error(
        await batch(client, {"op": "rename", "id": str(uuid.uuid4())}),
        400,
        "VALIDATION_ERROR",
        mentions=("op",),
    )
    assert_error(
        await batch(client, {"op": "delete", "id": str(uuid.uuid4())}),
        404,
        "TASK_NOT_FOUND",
        mentions=("operations[0] (delete)",),
    )
    assert_error(
        await batch(client, {"op": "complete", "id": str(uuid.uuid4()), "if_match": "7"}),
        400,
        "INVALID_IF_MATCH",
    )
    assert await rows(app) == {}


async def test_an_idempotent_batch_is_applied_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    operations = [{"op": "create", "task": {"title": "once"}}]

    first = await batch(client, *operations, **{"Idempotency-Key": "batch-1"})
    again = await batch(client, *operations, **{"Idempotency-Key": "batch-1"})

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert [row.title for row in (await rows(app)).values()] == ["once"]
