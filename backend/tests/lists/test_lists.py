"""/api/lists: create, read, list, update; fields, conditional requests, idempotency, bad input."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, events, list_rows
from tests.support.clock import CLOCK
from tests.support.helpers import ALICE, assert_error, auth


async def test_a_new_list_has_every_field_and_goes_last(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    first = await create_list(client, name="  Groceries ", color="#22AA66")
    response = await client.post("/api/lists", json={"name": "Work"}, headers=auth(ALICE))

    assert response.status_code == 201
    second = response.json()
    assert set(second) == {
        "id", "name", "color", "position", "archived", "created_at", "updated_at",
        "task_count", "open_task_count", "etag",
    }  # fmt: skip
    assert (first["name"], first["color"], first["archived"]) == ("Groceries", "#22aa66", False)
    assert (second["color"], second["task_count"], second["open_task_count"]) == (None, 0, 0)
    assert first["position"] < second["position"]
    assert response.headers["etag"] == second["etag"]
    assert response.headers["location"] == f"/api/lists/{second['id']}"
    assert [row["name"] for row in await list_rows(app)] == ["Groceries", "Work"]
    assert [kind for _, kind, _ in await events(app, "list")] == ["created", "created"]


async def test_get_and_the_list_of_lists_in_order(client: httpx.AsyncClient) -> None:
    lists = [await create_list(client, name=name) for name in ("a", "b", "c")]

    one = await client.get(f"/api/lists/{lists[1]['id']}", headers=auth(ALICE))
    page = await client.get("/api/lists?limit=2", headers=auth(ALICE))

    assert one.status_code == 200
    assert one.json() == lists[1]
    assert [item["name"] for item in page.json()] == ["a", "b"]
    assert page.headers["link"] == '</api/lists?limit=2&offset=2>; rel="next"'


async def test_update_is_partial_and_moves_the_version_only_on_a_real_change(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    created = await create_list(client, name="Home", color="#000000")
    url = f"/api/lists/{created['id']}"
    CLOCK.advance(timedelta(seconds=60))

    same = await client.put(url, json={"name": "Home"}, headers=auth(ALICE))
    changed = await client.put(url, json={"archived": True, "color": None}, headers=auth(ALICE))

    assert same.json() == created
    body = changed.json()
    assert (body["name"], body["archived"], body["color"]) == ("Home", True, None)
    assert body["etag"] != created["etag"]
    assert body["updated_at"] > created["updated_at"]
    assert [kind for _, kind, _ in await events(app, "list")] == ["created", "updated"]
    assert (await list_rows(app))[0]["archived"] is True


async def test_conditional_requests(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await create_list(client)
    url = f"/api/lists/{created['id']}"
    etag = created["etag"]

    not_modified = await client.get(url, headers={**auth(ALICE), "If-None-Match": etag})
    stale = await client.put(url, json={"name": "x"}, headers={**auth(ALICE), "If-Match": '"999"'})
    malformed = await client.put(url, json={"name": "x"}, headers={**auth(ALICE), "If-Match": "1"})
    fresh = await client.put(url, json={"name": "y"}, headers={**auth(ALICE), "If-Match": etag})
    stale_delete = await client.delete(url, headers={**auth(ALICE), "If-Match": etag})

    assert not_modified.status_code == 304
    assert_error(stale, 412, "PRECONDITION_FAILED", mentions=("list",))
    assert stale.headers["etag"] == etag
    assert_error(malformed, 400, "INVALID_IF_MATCH")
    assert fresh.status_code == 200
    assert_error(stale_delete, 412, "PRECONDITION_FAILED")
    assert [row["name"] for row in await list_rows(app)] == ["y"]


async def test_idempotent_create(client: httpx.AsyncClient, app: FastAPI) -> None:
    headers = {**auth(ALICE), "Idempotency-Key": "list-1"}

    first = await client.post("/api/lists", json={"name": "Once"}, headers=headers)
    again = await client.post("/api/lists", json={"name": "Once"}, headers=headers)
    other = await client.post("/api/lists", json={"name": "Twice"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert len(await list_rows(app)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "\u200b"},
        {"name": "x" * 256},
        {"name": "a\u202eb"},
        {"name": "ok", "color": "red"},
        {"name": "ok", "color": "#12345"},
        {"name": "ok", "position": "a0"},
        {"name": "ok", "archived": "yes"},
        {"name": "ok", "user_id": "bob"},
        {"name": 5},
    ],
)
async def test_bad_input_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, object]
) -> None:
    response = await client.post("/api/lists", json=body, headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR")
    assert await list_rows(app) == []
    assert await events(app) == []


@pytest.mark.parametrize(
    "body", [{}, {"name": None}, {"archived": None}, {"name": " "}, {"task_count": 3}]
)
async def test_bad_updates_write_nothing(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, object]
) -> None:
    created = await create_list(client)
    before = await list_rows(app)

    response = await client.put(f"/api/lists/{created['id']}", json=body, headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR")
    assert await list_rows(app) == before


async def test_a_malformed_or_missing_id_is_a_404(client: httpx.AsyncClient) -> None:
    malformed = await client.get("/api/lists/nope", headers=auth(ALICE))
    missing = await client.get(
        "/api/lists/00000000-0000-4000-8000-000000000000", headers=auth(ALICE)
    )

    assert_error(malformed, 404, "LIST_NOT_FOUND", mentions=("not a UUID",))
    assert_error(missing, 404, "LIST_NOT_FOUND", "List not found")
