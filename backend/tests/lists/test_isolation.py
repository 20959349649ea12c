"""Two users: a list of another user's is 403 on every route and never listed, counted or
written; its id in a task body is the same 400 as a missing list's."""

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, list_rows
from tests.support.helpers import ALICE, BOB, all_rows, assert_error, auth, create_task


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"name": "mine now"}),
        ("DELETE", "", None),
        ("DELETE", "?tasks=delete", None),
        ("POST", "/move", {"place": "first"}),
    ],
)
async def test_another_users_list_is_403_and_untouched(
    client: httpx.AsyncClient, app: FastAPI, method: str, suffix: str, body: object
) -> None:
    theirs = await create_list(client, BOB, name="bob's")
    await create_task(client, BOB, list_id=theirs["id"])
    before = await list_rows(app), await all_rows(app)

    response = await client.request(
        method, f"/api/lists/{theirs['id']}{suffix}", json=body, headers=auth(ALICE)
    )

    assert_error(response, 403, "LIST_FORBIDDEN", "This list belongs to another user")
    assert (await list_rows(app), await all_rows(app)) == before


async def test_each_user_lists_only_their_own(client: httpx.AsyncClient) -> None:
    mine = await create_list(client, name="mine")
    await create_list(client, BOB, name="bob's")

    listed = await client.get("/api/lists", headers=auth(ALICE))

    assert [item["id"] for item in listed.json()] == [mine["id"]]


async def test_positions_are_per_user(client: httpx.AsyncClient) -> None:
    alices = await create_list(client)
    bobs = await create_list(client, BOB)

    assert alices["position"] == bobs["position"]  # each user's first list: no clash


async def test_another_users_list_id_cannot_reach_their_counts(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    theirs = await create_list(client, BOB)

    response = await client.post(
        "/api/tasks", json={"title": "x", "list_id": theirs["id"]}, headers=auth(ALICE)
    )

    assert_error(response, 400, "INVALID_LIST_ID")
    assert [(row["task_count"], row["open_task_count"]) for row in await list_rows(app)] == [(0, 0)]
