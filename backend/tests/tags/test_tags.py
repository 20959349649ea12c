"""`GET /api/tags`: the caller's tags with counts, never another user's. Both databases."""

import httpx
from fastapi import FastAPI

from tests.support.helpers import ALICE, BOB, assert_401, assert_error, auth, create_task


async def tags_of(client: httpx.AsyncClient, user: str, query: str = "") -> list[dict[str, object]]:
    response = await client.get(f"/api/tags{query}", headers=auth(user))
    assert response.status_code == 200, response.text
    body: list[dict[str, object]] = response.json()
    return body


async def test_tags_are_counted_per_user_ignoring_case(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_task(client, ALICE, tags=["Work", "home"])
    await create_task(client, ALICE, tags=["work"])
    await create_task(client, ALICE, tags=["Straße"])
    await create_task(client, ALICE, tags=["STRASSE", "Work"])
    await create_task(client, BOB, tags=["work", "secret"])
    await create_task(client, BOB, tags=["work"])

    assert await tags_of(client, ALICE) == [
        {"name": "home", "count": 1},
        {"name": "STRASSE", "count": 2},
        {"name": "Work", "count": 3},
    ]
    assert await tags_of(client, BOB) == [
        {"name": "secret", "count": 1},
        {"name": "work", "count": 2},
    ]


async def test_a_user_without_tags_gets_an_empty_list(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_task(client, BOB, tags=["bobs"])

    assert await tags_of(client, ALICE) == []


async def test_counts_follow_updates_and_deletes(app: FastAPI, client: httpx.AsyncClient) -> None:
    first = await create_task(client, ALICE, tags=["a", "b"])
    await create_task(client, ALICE, tags=["a"])

    await client.put(f"/api/tasks/{first['id']}", json={"tags": ["c"]}, headers=auth(ALICE))
    assert await tags_of(client, ALICE) == [{"name": "a", "count": 1}, {"name": "c", "count": 1}]

    await client.delete(f"/api/tasks/{first['id']}", headers=auth(ALICE))
    assert await tags_of(client, ALICE) == [{"name": "a", "count": 1}]


async def test_tag_filter_never_matches_another_users_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_task(client, BOB, title="bob's", tags=["shared"])
    mine = await create_task(client, ALICE, title="alice's", tags=["Shared"])

    response = await client.get("/api/tasks?tag=shared", headers=auth(ALICE))

    assert [task["id"] for task in response.json()] == [mine["id"]]


async def test_tags_page_with_limit_offset_and_link(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_task(client, ALICE, tags=[f"t{n}" for n in range(5)])

    response = await client.get("/api/tags?limit=2&offset=2", headers=auth(ALICE))

    assert [tag["name"] for tag in response.json()] == ["t2", "t3"]
    assert response.links["next"]["url"] == "/api/tags?limit=2&offset=4"
    assert "link" not in (await client.get("/api/tags?offset=3", headers=auth(ALICE))).headers


async def test_tags_need_a_token_and_valid_paging(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert_401(await client.get("/api/tags"), "NOT_AUTHENTICATED")
    response = await client.get("/api/tags?limit=0", headers=auth(ALICE))
    assert_error(response, 400, "VALIDATION_ERROR", mentions=("limit",))
