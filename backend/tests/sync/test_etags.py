"""ETag, If-None-Match and If-Match on /api/tasks: versions, 304, 412, and the atomic race."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.errors import InvalidIfMatch, PreconditionFailed
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    assert_error,
    auth,
    create_task,
    make_task,
    row_of,
)

ROUNDS = 10


def with_header(user: str, name: str, value: str) -> dict[str, str]:
    return {**auth(user), name: value}


async def put(
    client: httpx.AsyncClient, task_id: str, body: dict[str, Any], if_match: str | None = None
) -> httpx.Response:
    headers = auth(ALICE) if if_match is None else with_header(ALICE, "If-Match", if_match)
    return await client.put(f"/api/tasks/{task_id}", json=body, headers=headers)


# --- ETag ---------------------------------------------------------------------------------


async def test_every_task_response_carries_the_same_strong_etag(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post("/api/tasks", json={"title": "a"}, headers=auth(ALICE))
    fetched = await client.get(f"/api/tasks/{created.json()['id']}", headers=auth(ALICE))
    listed = await client.get("/api/tasks", headers=auth(ALICE))

    etag = created.headers["etag"]
    assert etag[0] == etag[-1] == '"', etag  # strong: no W/ prefix
    assert created.json()["etag"] == fetched.headers["etag"] == fetched.json()["etag"] == etag
    assert [task["etag"] for task in listed.json()] == [etag]
    assert (await row_of(app, created.json()["id"]))["version"] == int(etag.strip('"'))


async def test_a_real_change_moves_the_etag_and_a_no_op_update_does_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="same")

    unchanged = await put(client, task["id"], {"title": "same"})
    changed = await put(client, task["id"], {"title": "other"})

    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.headers["etag"] == task["etag"]
    assert changed.headers["etag"] not in (task["etag"], "")
    assert changed.json()["etag"] == changed.headers["etag"]
    assert (await row_of(app, task["id"]))["version"] == int(changed.headers["etag"].strip('"'))


# --- If-None-Match ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["{etag}", "W/{etag}", '"999999", {etag}', "*"], ids=["exact", "weak", "list", "star"]
)
async def test_get_with_a_current_if_none_match_is_304_without_a_body(
    client: httpx.AsyncClient, header: str
) -> None:
    task = await create_task(client)

    response = await client.get(
        f"/api/tasks/{task['id']}",
        headers=with_header(ALICE, "If-None-Match", header.format(etag=task["etag"])),
    )

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == task["etag"]


@pytest.mark.parametrize("header", ['"999999"', "garbage", '"abc"', ""])
async def test_get_with_a_stale_or_foreign_if_none_match_is_the_task(
    client: httpx.AsyncClient, header: str
) -> None:
    task = await create_task(client)

    response = await client.get(
        f"/api/tasks/{task['id']}", headers=with_header(ALICE, "If-None-Match", header)
    )

    assert response.status_code == 200
    assert response.json() == task


async def test_if_none_match_never_reveals_another_users_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await make_task(app, BOB)

    response = await client.get(
        f"/api/tasks/{task.id}", headers=with_header(ALICE, "If-None-Match", "*")
    )

    assert_error(response, 403, "TASK_FORBIDDEN")
    assert "etag" not in response.headers


# --- If-Match -----------------------------------------------------------------------------


async def test_put_with_a_stale_if_match_is_412_with_the_current_etag_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="first")
    current = (await put(client, task["id"], {"title": "second"})).json()
    before = await all_rows(app)

    response = await put(client, task["id"], {"title": "lost update"}, if_match=task["etag"])

    assert_error(response, 412, "PRECONDITION_FAILED")
    assert response.headers["etag"] == current["etag"]
    assert await all_rows(app) == before


@pytest.mark.parametrize("header", ["{etag}", '"1", {etag}', "*"], ids=["exact", "list", "star"])
async def test_put_with_a_matching_if_match_writes(
    app: FastAPI, client: httpx.AsyncClient, header: str
) -> None:
    task = await create_task(client, title="first")

    response = await put(client, task["id"], {"title": "second"}, header.format(etag=task["etag"]))

    assert response.status_code == 200, response.text
    assert response.headers["etag"] != task["etag"]
    assert (await row_of(app, task["id"]))["title"] == "second"


@pytest.mark.parametrize("header", ['"-1"', '"' + "9" * 40 + '"', '""', 'W/"1", "0"'])
async def test_put_with_an_if_match_naming_no_version_is_412_changed(
    app: FastAPI, client: httpx.AsyncClient, header: str
) -> None:
    task = await create_task(client, title="first")
    before = await all_rows(app)

    response = await put(client, task["id"], {"title": "x"}, header)

    assert_error(response, 412, "PRECONDITION_FAILED", PreconditionFailed.detail)
    assert response.headers["etag"] == task["etag"]
    assert await all_rows(app) == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("header", ["W/{etag}", " W/{etag} , W/{etag}"], ids=["one", "list"])
async def test_a_weak_if_match_is_412_saying_the_tag_is_weak_not_that_the_task_changed(
    app: FastAPI, client: httpx.AsyncClient, method: str, header: str
) -> None:
    task = await create_task(client, title="first")
    before = await all_rows(app)

    response = await client.request(
        method,
        f"/api/tasks/{task['id']}",
        json={"title": "x"} if method == "PUT" else None,
        headers=with_header(ALICE, "If-Match", header.format(etag=task["etag"])),
    )

    assert_error(response, 412, "PRECONDITION_FAILED", PreconditionFailed.WEAK_DETAIL)
    assert response.headers["etag"] == task["etag"]
    assert await all_rows(app) == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize(
    "header",
    ["{version}", "garbage", "", '"{version}', '"{version}" "1"', '"{version}";', "'{version}'"],
)
async def test_a_malformed_if_match_is_400_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, method: str, header: str
) -> None:
    task = await create_task(client, title="first")
    before = await all_rows(app)
    version = task["etag"].strip('"')  # the task IS at this version: a 412 would be a lie

    response = await client.request(
        method,
        f"/api/tasks/{task['id']}",
        json={"title": "x"} if method == "PUT" else None,
        headers=with_header(ALICE, "If-Match", header.format(version=version)),
    )

    assert_error(response, 400, "INVALID_IF_MATCH", InvalidIfMatch.detail)
    assert await all_rows(app) == before


async def test_an_if_match_list_with_trailing_comma_and_spaces_still_matches(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="first")

    response = await put(client, task["id"], {"title": "second"}, f' W/"1" , {task["etag"]} , ')

    assert response.status_code == 200, response.text
    assert (await row_of(app, task["id"]))["title"] == "second"


async def test_if_match_on_a_missing_or_foreign_task_is_404_or_403(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    bobs = await make_task(app, BOB)
    before = await all_rows(app)
    missing = "00000000-0000-4000-8000-000000000000"

    for method in ("PUT", "DELETE"):
        for task_id, status, code in (
            (missing, 404, "TASK_NOT_FOUND"),
            (bobs.id, 403, "TASK_FORBIDDEN"),
        ):
            for header in ("*", '"0"'):
                response = await client.request(
                    method,
                    f"/api/tasks/{task_id}",
                    json={"title": "x"} if method == "PUT" else None,
                    headers=with_header(ALICE, "If-Match", header),
                )
                assert_error(response, status, code)
                assert "etag" not in response.headers
    assert await all_rows(app) == before


async def test_delete_with_a_stale_if_match_is_412_and_keeps_the_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="first")
    current = (await put(client, task["id"], {"title": "second"})).json()
    before = await all_rows(app)

    response = await client.delete(
        f"/api/tasks/{task['id']}", headers=with_header(ALICE, "If-Match", task["etag"])
    )

    assert_error(response, 412, "PRECONDITION_FAILED")
    assert response.headers["etag"] == current["etag"]
    assert await all_rows(app) == before


async def test_delete_with_a_current_if_match_deletes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client)

    response = await client.delete(
        f"/api/tasks/{task['id']}", headers=with_header(ALICE, "If-Match", task["etag"])
    )

    assert response.status_code == 204
    assert await all_rows(app) == []


# --- the race: check and write are one step -----------------------------------------------


async def test_concurrent_puts_with_the_same_if_match_exactly_one_wins(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="start")
    etag = task["etag"]

    for round_ in range(ROUNDS):
        titles = [f"left {round_}", f"right {round_}"]
        responses = await asyncio.gather(
            *(put(client, task["id"], {"title": title}, if_match=etag) for title in titles)
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 412], [response.text for response in responses]
        winner = next(r for r in responses if r.status_code == 200)
        loser = next(r for r in responses if r.status_code == 412)
        assert loser.headers["etag"] == winner.headers["etag"]
        row = await row_of(app, task["id"])
        assert row["title"] == winner.json()["title"]
        assert row["version"] == int(winner.headers["etag"].strip('"'))
        etag = winner.headers["etag"]


async def test_concurrent_put_and_delete_with_the_same_if_match_exactly_one_wins(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for _ in range(ROUNDS):
        task = await create_task(client, title="start")
        updated, deleted = await asyncio.gather(
            put(client, task["id"], {"title": "changed"}, if_match=task["etag"]),
            client.delete(
                f"/api/tasks/{task['id']}", headers=with_header(ALICE, "If-Match", task["etag"])
            ),
        )

        rows = await all_rows(app)
        if deleted.status_code == 204:
            assert updated.status_code in (404, 412), updated.text
            assert rows == []
        else:
            assert (updated.status_code, deleted.status_code) == (200, 412)
            assert [row["title"] for row in rows] == ["changed"]
            await client.delete(f"/api/tasks/{task['id']}", headers=auth(ALICE))
