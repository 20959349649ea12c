"""POST /api/lists/{id}/move: before, after, first, last; one row written; refusals."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.lists.service import POSITION_MAX_LENGTH
from tests.lists.helpers import create_list, events, list_rows
from tests.support.helpers import ALICE, BOB, assert_error, auth

NOBODYS = "00000000-0000-4000-8000-000000000000"


async def names_in_order(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/lists", headers=auth(ALICE))
    return [item["name"] for item in response.json()]


async def move(
    client: httpx.AsyncClient, moved: dict[str, Any], user: str = ALICE, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/lists/{moved['id']}/move", json=body, headers=auth(user))


async def test_every_kind_of_move_writes_one_list(client: httpx.AsyncClient, app: FastAPI) -> None:
    a, b, c, d = [await create_list(client, name=name) for name in "abcd"]

    assert (await move(client, d, place="first")).status_code == 200
    assert await names_in_order(client) == ["d", "a", "b", "c"]
    assert (await move(client, d, after=b["id"])).status_code == 200
    assert await names_in_order(client) == ["a", "b", "d", "c"]
    assert (await move(client, a, before=c["id"])).status_code == 200
    assert await names_in_order(client) == ["b", "d", "a", "c"]
    response = await move(client, b, place="last")
    assert await names_in_order(client) == ["d", "a", "c", "b"]

    assert response.headers["etag"] == response.json()["etag"] != b["etag"]
    # Four creates, then one event per move: only the moved list was written each time.
    moved = [kind for kind, _, _ in await events(app, "list")][4:]
    assert len(moved) == 4
    untouched = {str(row["id"]): row["version"] for row in await list_rows(app)}
    assert untouched[c["id"]] == int(c["etag"].strip('"'))


async def test_a_move_to_where_it_is_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    a, b = await create_list(client, name="a"), await create_list(client, name="b")

    response = await move(client, b, after=a["id"])

    assert response.json() == b
    assert len(await events(app, "list")) == 2


async def test_if_match_guards_a_move(client: httpx.AsyncClient) -> None:
    await create_list(client, name="a")
    b = await create_list(client, name="b")
    url = f"/api/lists/{b['id']}/move"

    stale = await client.post(
        url, json={"place": "first"}, headers={**auth(ALICE), "If-Match": '"1"'}
    )
    fresh = await client.post(
        url, json={"place": "first"}, headers={**auth(ALICE), "If-Match": b["etag"]}
    )

    assert_error(stale, 412, "PRECONDITION_FAILED")
    assert fresh.status_code == 200
    assert await names_in_order(client) == ["b", "a"]


@pytest.mark.parametrize(
    "body",
    [{"place": "middle"}, {"place": "first", "after": NOBODYS}, {"after": "nope"}, {"first": True}],
)
async def test_a_bad_move_moves_nothing(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, Any]
) -> None:
    a = await create_list(client, name="a")
    await create_list(client, name="b")
    before = await list_rows(app)

    response = await move(client, a, **body)

    assert_error(response, 400, "VALIDATION_ERROR")
    assert await list_rows(app) == before


async def test_next_to_itself_or_to_a_list_not_the_callers_is_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    a = await create_list(client, name="a")
    theirs = await create_list(client, BOB, name="theirs")
    before = await list_rows(app)

    itself = await move(client, a, after=a["id"])
    other_user = await move(client, a, before=theirs["id"])
    missing = await move(client, a, before="00000000-0000-4000-8000-000000000000")
    not_mine = await move(client, theirs, place="first")

    assert_error(itself, 400, "VALIDATION_ERROR", mentions=("itself",))
    assert_error(other_user, 400, "INVALID_LIST_ID")
    assert_error(missing, 400, "INVALID_LIST_ID")
    assert_error(not_mine, 403, "LIST_FORBIDDEN")
    assert await list_rows(app) == before


async def test_keys_that_grow_too_long_are_spread_again_in_the_same_order(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    a, b, c = [await create_list(client, name=name) for name in "abc"]
    moving, target = c, b
    # Always into the same gap (right after `a`): each key is longer than the last.
    for _ in range(POSITION_MAX_LENGTH * 7):
        response = await move(client, moving, after=a["id"])
        assert response.status_code == 200
        moving, target = target, moving
    positions = [row["position"] for row in await list_rows(app)]

    assert max(len(position) for position in positions) <= POSITION_MAX_LENGTH
    assert len(set(positions)) == 3
    assert (await names_in_order(client))[0] == "a"
