"""DELETE /api/lists/{id}: refused while it has tasks, unless they are deleted with it or
moved to another list; one transaction; each task's change in the outbox."""

import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, events, list_rows
from tests.support.helpers import ALICE, BOB, all_rows, all_tasks, assert_error, auth, create_task


async def test_an_empty_list_is_deleted_with_its_tombstone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    empty = await create_list(client)

    response = await client.delete(f"/api/lists/{empty['id']}", headers=auth(ALICE))

    assert response.status_code == 204
    assert await list_rows(app) == []
    assert (await events(app, "list"))[-1] == ("list", "deleted", uuid.UUID(empty["id"]).hex)


async def test_a_list_with_tasks_is_not_deleted_without_saying_what_becomes_of_them(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    full = await create_list(client)
    await create_task(client, list_id=full["id"])
    before = await list_rows(app), await all_rows(app), await events(app)

    response = await client.delete(f"/api/lists/{full['id']}", headers=auth(ALICE))

    assert_error(response, 409, "LIST_NOT_EMPTY", mentions=("tasks=delete", "move_to"))
    assert (await list_rows(app), await all_rows(app), await events(app)) == before


async def test_tasks_delete_deletes_the_lists_tasks_each_with_its_tombstone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    doomed, kept = await create_list(client, name="doomed"), await create_list(client, name="kept")
    gone = [(await create_task(client, list_id=doomed["id"], tags=["x"]))["id"] for _ in range(3)]
    stays = (await create_task(client, list_id=kept["id"]))["id"]
    loose = (await create_task(client))["id"]

    response = await client.delete(f"/api/lists/{doomed['id']}?tasks=delete", headers=auth(ALICE))

    assert response.status_code == 204
    assert {str(task.id) for task in await all_tasks(app)} == {stays, loose}
    assert [row["name"] for row in await list_rows(app)] == ["kept"]
    tail = (await events(app))[-4:]
    assert sorted(tail[:3]) == sorted(("task", "deleted", uuid.UUID(id_).hex) for id_ in gone)
    assert tail[3] == ("list", "deleted", uuid.UUID(doomed["id"]).hex)
    changes = await client.get(
        "/api/tasks/changes?since=" + await _token_before(client, 4), headers=auth(ALICE)
    )
    assert sorted(changes.json()["deleted"]) == sorted(gone)


async def _token_before(client: httpx.AsyncClient, changes: int) -> str:
    """A sync token `changes` changes ago (tokens are the seq, base64'd: see app.sync.tokens)."""
    from app.sync.tokens import seq_of, token_of

    latest = (await client.get("/api/tasks/changes?limit=1", headers=auth(ALICE))).json()
    while latest["has_more"]:
        latest = (
            await client.get(
                f"/api/tasks/changes?since={latest['next_token']}", headers=auth(ALICE)
            )
        ).json()
    return token_of(seq_of(latest["next_token"], ALICE) - changes, ALICE)


async def test_move_to_moves_the_tasks_each_as_a_new_version(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    old, new = await create_list(client, name="old"), await create_list(client, name="new")
    moved = [await create_task(client, list_id=old["id"], is_completed=n == 0) for n in range(3)]

    response = await client.delete(
        f"/api/lists/{old['id']}?move_to={new['id']}", headers=auth(ALICE)
    )

    assert response.status_code == 204
    rows = {str(task.id): task for task in await all_tasks(app)}
    for task in moved:
        assert str(rows[task["id"]].list_id) == new["id"]
        assert rows[task["id"]].version > int(task["etag"].strip('"'))
    assert [
        (row["name"], row["task_count"], row["open_task_count"]) for row in await list_rows(app)
    ] == [("new", 3, 2)]
    tail = await events(app)
    assert [kind for _, kind, _ in tail[-4:-1]] == ["updated"] * 3
    assert tail[-1] == ("list", "deleted", uuid.UUID(old["id"]).hex)
    listed = (await client.get(f"/api/tasks?list={new['id']}", headers=auth(ALICE))).json()
    assert sorted(task["id"] for task in listed) == sorted(task["id"] for task in moved)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("?tasks=delete&move_to={other}", 400, "VALIDATION_ERROR"),
        ("?tasks=keep", 400, "VALIDATION_ERROR"),
        ("?move_to={self}", 400, "VALIDATION_ERROR"),
        ("?move_to=nope", 400, "INVALID_LIST_ID"),
        ("?move_to=00000000-0000-4000-8000-000000000000", 400, "INVALID_LIST_ID"),
        ("?move_to={bobs}", 400, "INVALID_LIST_ID"),
    ],
)
async def test_bad_delete_requests_delete_nothing(
    client: httpx.AsyncClient, app: FastAPI, query: str, status: int, code: str
) -> None:
    doomed, other = await create_list(client), await create_list(client)
    bobs = await create_list(client, BOB)
    await create_task(client, list_id=doomed["id"])
    before = await list_rows(app), await all_rows(app), await events(app)
    url = f"/api/lists/{doomed['id']}" + query.format(
        other=other["id"], self=doomed["id"], bobs=bobs["id"]
    )

    response = await client.delete(url, headers=auth(ALICE))

    assert_error(response, status, code)
    assert (await list_rows(app), await all_rows(app), await events(app)) == before


@pytest.mark.parametrize("settings_overrides", [{"max_tasks_per_list": 3}])
async def test_move_to_a_list_without_room_deletes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    doomed, small = await create_list(client), await create_list(client)
    for list_ in (doomed, doomed, small, small):
        await create_task(client, list_id=list_["id"])
    before = await list_rows(app), await all_rows(app)

    response = await client.delete(
        f"/api/lists/{doomed['id']}?move_to={small['id']}", headers=auth(ALICE)
    )

    assert_error(response, 409, "LIST_FULL")
    assert (await list_rows(app), await all_rows(app)) == before
