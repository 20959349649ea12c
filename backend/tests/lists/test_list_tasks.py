"""Tasks in lists: `list_id` on create, update and every body; `?list=`; the counts; one 400
for a list that is missing or another user's; the per-list limit."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, list_rows
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    assert_error,
    auth,
    create_task,
    list_ids,
    row_of,
)

NOBODYS = "00000000-0000-4000-8000-000000000000"


async def test_a_task_without_list_id_is_in_no_list(client: httpx.AsyncClient) -> None:
    task = await create_task(client)

    assert task["list_id"] is None
    assert (await client.get(f"/api/tasks/{task['id']}", headers=auth(ALICE))).json() == task


async def test_list_id_on_create_update_and_in_every_body(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    task = await create_task(client, list_id=home["id"])

    moved = await client.put(
        f"/api/tasks/{task['id']}", json={"list_id": work["id"]}, headers=auth(ALICE)
    )
    out = await client.put(f"/api/tasks/{task['id']}", json={"list_id": None}, headers=auth(ALICE))

    assert task["list_id"] == home["id"]
    assert moved.json()["list_id"] == work["id"]
    assert moved.json()["etag"] != task["etag"]
    assert out.json()["list_id"] is None
    assert (await row_of(app, task["id"]))["list_id"] is None


async def test_counts_follow_creates_completions_moves_and_deletes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    first = await create_task(client, list_id=home["id"])
    second = await create_task(client, list_id=home["id"], is_completed=True)
    await create_task(client)  # in no list: counted nowhere

    async def counts() -> list[tuple[int, int]]:
        return [(row["task_count"], row["open_task_count"]) for row in await list_rows(app)]

    assert await counts() == [(2, 1), (0, 0)]
    await client.put(f"/api/tasks/{first['id']}", json={"is_completed": True}, headers=auth(ALICE))
    assert await counts() == [(2, 0), (0, 0)]
    await client.put(
        f"/api/tasks/{second['id']}", json={"list_id": work["id"]}, headers=auth(ALICE)
    )
    await client.put(
        f"/api/tasks/{second['id']}", json={"is_completed": False}, headers=auth(ALICE)
    )
    assert await counts() == [(1, 0), (1, 1)]
    await client.delete(f"/api/tasks/{first['id']}", headers=auth(ALICE))
    assert await counts() == [(0, 0), (1, 1)]
    listed = (await client.get("/api/lists", headers=auth(ALICE))).json()
    assert [(item["task_count"], item["open_task_count"]) for item in listed] == [(0, 0), (1, 1)]


@pytest.mark.parametrize("whose", ["missing", "bob's"])
async def test_a_list_that_is_not_the_callers_is_one_400_and_nothing_is_written(
    client: httpx.AsyncClient, app: FastAPI, whose: str
) -> None:
    theirs = await create_list(client, BOB)
    list_id = NOBODYS if whose == "missing" else theirs["id"]
    mine = await create_task(client)
    before = await all_rows(app)

    created = await client.post(
        "/api/tasks", json={"title": "x", "list_id": list_id}, headers=auth(ALICE)
    )
    updated = await client.put(
        f"/api/tasks/{mine['id']}", json={"list_id": list_id}, headers=auth(ALICE)
    )

    for response in (created, updated):
        assert_error(response, 400, "INVALID_LIST_ID", "This list id names none of your lists")
    assert await all_rows(app) == before
    assert (await list_rows(app))[0]["task_count"] == 0


@pytest.mark.parametrize("value", ["nope", 5, "{" + NOBODYS + "}", NOBODYS.replace("-", "")])
async def test_a_malformed_list_id_is_a_validation_error(
    client: httpx.AsyncClient, app: FastAPI, value: Any
) -> None:
    response = await client.post(
        "/api/tasks", json={"title": "x", "list_id": value}, headers=auth(ALICE)
    )

    assert_error(response, 400, "VALIDATION_ERROR", mentions=("list_id",))
    assert await all_rows(app) == []


async def test_the_list_filter_combines_with_filters_sorts_and_cursors(
    client: httpx.AsyncClient,
) -> None:
    home = await create_list(client, name="home")
    theirs = await create_list(client, BOB, name="theirs")
    in_home = [
        (await create_task(client, title=f"home {n}", list_id=home["id"], priority="high"))["id"]
        for n in range(5)
    ]
    await create_task(client, title="home low", list_id=home["id"])
    loose = (await create_task(client, title="loose"))["id"]
    await create_task(client, BOB, title="bob's", list_id=theirs["id"])

    assert await list_ids(client, ALICE, f"?list={home['id']}&priority=high&sort=title") == in_home
    assert await list_ids(client, ALICE, "?list=none") == [loose]
    assert await list_ids(client, ALICE, f"?list={theirs['id']}") == []

    url: str | None = f"/api/tasks?list={home['id']}&priority=high&sort=-title&limit=2"
    walked: list[str] = []
    while url is not None:
        page = await client.get(url, headers=auth(ALICE))
        walked += [task["id"] for task in page.json()]
        url = page.links.get("next", {}).get("url")
    assert walked == in_home[::-1]


async def test_a_cursor_is_valid_only_for_the_same_list(client: httpx.AsyncClient) -> None:
    home, work = await create_list(client, name="home"), await create_list(client, name="work")
    for _ in range(3):
        await create_task(client, list_id=home["id"])
    page = await client.get(f"/api/tasks?list={home['id']}&limit=1", headers=auth(ALICE))
    cursor = page.links["next"]["url"].split("cursor=")[1]

    other = await client.get(f"/api/tasks?list={work['id']}&cursor={cursor}", headers=auth(ALICE))
    no_list = await client.get(f"/api/tasks?cursor={cursor}&limit=1", headers=auth(ALICE))

    assert_error(other, 400, "INVALID_CURSOR")
    assert_error(no_list, 400, "INVALID_CURSOR")


@pytest.mark.parametrize("value", ["nope", "None", NOBODYS[:-1], "x" * 37])
async def test_a_bad_list_parameter_is_a_400(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get(f"/api/tasks?list={value}", headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR", mentions=("list",))


@pytest.mark.parametrize("settings_overrides", [{"max_tasks_per_list": 2}])
async def test_a_full_list_takes_no_more_tasks(client: httpx.AsyncClient, app: FastAPI) -> None:
    full, other = await create_list(client, name="full"), await create_list(client, name="other")
    for _ in range(2):
        await create_task(client, list_id=full["id"])
    outside = await create_task(client, list_id=other["id"])
    before = await all_rows(app)

    created = await client.post(
        "/api/tasks", json={"title": "x", "list_id": full["id"]}, headers=auth(ALICE)
    )
    moved = await client.put(
        f"/api/tasks/{outside['id']}", json={"list_id": full["id"]}, headers=auth(ALICE)
    )

    assert_error(created, 409, "LIST_FULL")
    assert_error(moved, 409, "LIST_FULL")
    assert await all_rows(app) == before
    assert [row["task_count"] for row in await list_rows(app)] == [2, 1]


async def test_the_database_refuses_a_task_in_a_list_that_is_gone(app: FastAPI) -> None:
    from sqlalchemy.exc import IntegrityError

    from tests.support.helpers import make_task

    with pytest.raises(IntegrityError):
        await make_task(app, ALICE, list_id=uuid.uuid4(), version=1)
