"""One user can never read, change, delete or even perturb another user's tasks."""

import asyncio
import math
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.models import Task
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    all_tasks,
    auth,
    list_ids,
    list_pages,
    make_task,
    put_raw,
    row_of,
    seconds_ago,
)

FORBIDDEN = {
    "detail": "This task belongs to another user",
    "error_code": "TASK_FORBIDDEN",
    "status_code": 403,
}
NOT_FOUND = {"detail": "Task not found", "error_code": "TASK_NOT_FOUND", "status_code": 404}
SECRET_TITLE = "Alice's surprise party"
SECRET_DESCRIPTION = "do not tell Bob"
ROUNDS = 5

# Everything Bob may try on Alice's task with a well-formed request: id -> (method, body).
BOB_WELL_FORMED_BY_ID: dict[str, tuple[str, dict[str, Any] | None]] = {
    "get": ("GET", None),
    "put-title": ("PUT", {"title": "hijacked"}),
    "put-is_completed": ("PUT", {"is_completed": True}),
    "put-description-null": ("PUT", {"description": None}),
    "put-description": ("PUT", {"description": "rewritten"}),
    "put-all-fields": ("PUT", {"title": "t", "description": "d", "is_completed": True}),
    "put-the-stored-values": (
        "PUT",
        {"title": SECRET_TITLE, "description": SECRET_DESCRIPTION, "is_completed": False},
    ),
    "delete": ("DELETE", None),
}
BOB_WELL_FORMED = list(BOB_WELL_FORMED_BY_ID.values())
CROSS_USER_REQUESTS = [
    pytest.param(method, body, id=name) for name, (method, body) in BOB_WELL_FORMED_BY_ID.items()
]

# Bodies refused before any ownership check: id -> (raw body, status, error_code).
BOB_INVALID_BY_ID: dict[str, tuple[bytes, int, str]] = {
    "empty-title": (b'{"title": ""}', 400, "VALIDATION_ERROR"),
    "null-title": (b'{"title": null}', 400, "VALIDATION_ERROR"),
    "string-boolean": (b'{"is_completed": "yes"}', 400, "VALIDATION_ERROR"),
    "empty-object": (b"{}", 400, "VALIDATION_ERROR"),
    "array": (b"[]", 400, "VALIDATION_ERROR"),
    "user_id": (b'{"user_id": "' + BOB.encode() + b'"}', 400, "VALIDATION_ERROR"),
    "title-and-user_id": (
        b'{"title": "x", "user_id": "' + BOB.encode() + b'"}',
        400,
        "VALIDATION_ERROR",
    ),
    "long-title": (b'{"title": "' + b"x" * 201 + b'"}', 400, "VALIDATION_ERROR"),
    "broken-json": (b'{"title": ', 400, "MALFORMED_JSON"),
    "too-large": (b'{"title": "' + b"x" * 70_000 + b'"}', 413, "PAYLOAD_TOO_LARGE"),
}
BOB_INVALID = list(BOB_INVALID_BY_ID.values())
INVALID_PUT_BODIES = [pytest.param(*values, id=name) for name, values in BOB_INVALID_BY_ID.items()]

# Ways a caller might try to claim another identity besides the token: (headers, query).
SPOOFS = [
    *(
        pytest.param({name: ALICE}, {}, id=name.lower())
        for name in (
            "X-User-Id",
            "X-Forwarded-User",
            "X-Remote-User",
            "Remote-User",
            "X-Auth-Request-User",
            "X-Authenticated-Userid",
        )
    ),
    pytest.param({}, {"user_id": ALICE}, id="query-user_id"),
    pytest.param({}, {"user": ALICE, "owner": ALICE, "sub": ALICE}, id="query-user-owner-sub"),
]


async def alices_task(app: FastAPI) -> Task:
    """Created a minute ago, so any write (even of `updated_at` alone) is visible."""
    return await make_task(
        app, ALICE, title=SECRET_TITLE, description=SECRET_DESCRIPTION, created_at=seconds_ago(60)
    )


async def send(
    client: httpx.AsyncClient,
    user: str,
    method: str,
    task_id: uuid.UUID | str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.request(method, f"/api/tasks/{task_id}", json=body, headers=auth(user))


# --- 1. the cross-user matrix -------------------------------------------------------------


@pytest.mark.parametrize(("method", "body"), CROSS_USER_REQUESTS)
async def test_another_users_task_is_403_unchanged_and_reveals_nothing(
    app: FastAPI, client: httpx.AsyncClient, method: str, body: dict[str, Any] | None
) -> None:
    task = await alices_task(app)
    before = await row_of(app, task.id)

    response = await send(client, BOB, method, task.id, body)

    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    revealed = response.text + str(response.headers)
    for secret in (SECRET_TITLE, SECRET_DESCRIPTION, ALICE):
        assert secret not in revealed
    assert await row_of(app, task.id) == before
    assert len(await all_tasks(app)) == 1
    owners_view = await send(client, ALICE, "GET", task.id)
    assert owners_view.status_code == 200, owners_view.text
    assert (owners_view.json()["title"], owners_view.json()["description"]) == (
        SECRET_TITLE,
        SECRET_DESCRIPTION,
    )


# --- 2. listing ---------------------------------------------------------------------------


async def interleaved_tasks(app: FastAPI) -> dict[str, list[str]]:
    """Tasks of both users, created alternately and often at the very same instant;
    each user's ids newest first."""
    tasks = [
        await make_task(app, ALICE if n % 3 == 0 else BOB, created_at=seconds_ago(100 - n // 2))
        for n in range(40)
    ]
    newest_first = sorted(tasks, key=lambda task: (task.created_at, task.id), reverse=True)
    return {
        user: [str(task.id) for task in newest_first if task.user_id == user]
        for user in (ALICE, BOB)
    }


@pytest.mark.parametrize("user", [ALICE, BOB])
async def test_list_pages_hold_exactly_the_callers_tasks(
    app: FastAPI, client: httpx.AsyncClient, user: str
) -> None:
    expected = (await interleaved_tasks(app))[user]  # Alice 14, Bob 26, of 40

    pages = await list_pages(client, user, limit=7)

    assert [task_id for page in pages for task_id in page] == expected
    assert len(pages) == math.ceil(len(expected) / 7)  # no Link (nor empty page) at the end


@pytest.mark.parametrize("user", [ALICE, BOB])
async def test_list_offset_pages_never_contain_the_other_users_tasks(
    app: FastAPI, client: httpx.AsyncClient, user: str
) -> None:
    mine = set((await interleaved_tasks(app))[user])

    seen = [
        task_id
        for offset in range(0, 45, 3)
        for task_id in await list_ids(client, user, f"?limit=3&offset={offset}")
    ]

    assert sorted(seen) == sorted(mine)


async def test_list_has_no_next_link_when_only_the_other_user_has_more_rows(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for n in range(3):
        await make_task(app, ALICE, created_at=seconds_ago(n))
    for n in range(10):
        await make_task(app, BOB, created_at=seconds_ago(n))

    alice = await client.get("/api/tasks?limit=3", headers=auth(ALICE))
    bob = await client.get("/api/tasks?limit=3", headers=auth(BOB))

    assert "link" not in alice.headers
    assert bob.links["next"]["url"] == "/api/tasks?limit=3&offset=3"


async def test_list_offset_past_the_callers_rows_is_empty_even_if_others_have_more(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_task(app, ALICE)
    for _ in range(5):
        await make_task(app, BOB)

    response = await client.get("/api/tasks?offset=1", headers=auth(ALICE))

    assert response.json() == []
    assert "link" not in response.headers


# --- 3. an invalid body on another user's task --------------------------------------------


@pytest.mark.parametrize(("content", "status", "error_code"), INVALID_PUT_BODIES)
async def test_invalid_put_on_another_users_task_is_refused_as_for_a_missing_one(
    app: FastAPI, client: httpx.AsyncClient, content: bytes, status: int, error_code: str
) -> None:
    task = await alices_task(app)
    before = await row_of(app, task.id)

    on_alices = await put_raw(client, BOB, task.id, content)
    on_missing = await put_raw(client, BOB, uuid.uuid4(), content)

    assert on_alices.status_code == status, on_alices.text
    assert on_alices.json()["error_code"] == error_code
    for secret in (SECRET_TITLE, SECRET_DESCRIPTION, ALICE):
        assert secret not in on_alices.text
    assert (on_alices.status_code, on_alices.json()) == (on_missing.status_code, on_missing.json())
    assert await row_of(app, task.id) == before
    assert len(await all_tasks(app)) == 1


# --- 4. missing and deleted tasks ---------------------------------------------------------

METHODS = [
    pytest.param("GET", None, id="get"),
    pytest.param("PUT", {"title": "x"}, id="put"),
    pytest.param("DELETE", None, id="delete"),
]


@pytest.mark.parametrize("user", [ALICE, BOB])
@pytest.mark.parametrize(("method", "body"), METHODS)
async def test_missing_id_is_404_task_not_found(
    app: FastAPI, client: httpx.AsyncClient, method: str, body: dict[str, Any] | None, user: str
) -> None:
    await alices_task(app)
    before = await all_rows(app)

    response = await send(client, user, method, uuid.uuid4(), body)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert await all_rows(app) == before


@pytest.mark.parametrize("user", [ALICE, BOB])
@pytest.mark.parametrize(("method", "body"), METHODS)
async def test_deleted_task_is_404_for_everyone_not_403(
    app: FastAPI, client: httpx.AsyncClient, method: str, body: dict[str, Any] | None, user: str
) -> None:
    task = await alices_task(app)
    assert (await send(client, ALICE, "DELETE", task.id)).status_code == 204

    response = await send(client, user, method, task.id, body)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert await all_tasks(app) == []


# --- 5. identity comes from the token only ------------------------------------------------


@pytest.mark.parametrize("claimed", [ALICE, BOB, "someone-else"])
async def test_create_with_user_id_in_the_body_is_400_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, claimed: str
) -> None:
    response = await client.post(
        "/api/tasks", json={"title": "x", "user_id": claimed}, headers=auth(BOB)
    )

    assert response.status_code == 400, response.text
    assert response.json() == {
        "detail": "user_id: unknown field",
        "error_code": "VALIDATION_ERROR",
        "status_code": 400,
    }
    assert await all_tasks(app) == []


async def test_owner_cannot_give_a_task_away_with_user_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await alices_task(app)
    before = await row_of(app, task.id)

    response = await send(client, ALICE, "PUT", task.id, {"user_id": BOB, "title": "gift"})

    assert response.status_code == 400, response.text
    assert await row_of(app, task.id) == before


@pytest.mark.parametrize(("headers", "params"), SPOOFS)
async def test_spoofed_identity_does_not_change_whose_tasks_are_listed(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    await alices_task(app)
    bobs = await make_task(app, BOB)

    response = await client.get("/api/tasks", params=params, headers={**auth(BOB), **headers})

    assert response.status_code == 200, response.text
    assert [task["id"] for task in response.json()] == [str(bobs.id)]


@pytest.mark.parametrize(("headers", "params"), SPOOFS)
async def test_spoofed_identity_does_not_change_the_owner_of_a_new_task(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.post(
        "/api/tasks", json={"title": "x"}, params=params, headers={**auth(BOB), **headers}
    )

    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == BOB
    assert [task.user_id for task in await all_tasks(app)] == [BOB]


@pytest.mark.parametrize(("headers", "params"), SPOOFS)
async def test_spoofed_identity_does_not_open_another_users_task(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    task = await alices_task(app)
    before = await row_of(app, task.id)

    for method, body in BOB_WELL_FORMED:
        response = await client.request(
            method,
            f"/api/tasks/{task.id}",
            json=body,
            params=params,
            headers={**auth(BOB), **headers},
        )
        assert response.json() == FORBIDDEN, (method, body)

    assert await row_of(app, task.id) == before


@pytest.mark.parametrize(("headers", "params"), SPOOFS)
async def test_spoofed_identity_does_not_lock_the_caller_out_of_their_own_task(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    bobs = await make_task(app, BOB)

    response = await client.get(
        f"/api/tasks/{bobs.id}", params=params, headers={**auth(BOB), **headers}
    )

    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == BOB


# --- 6. concurrency -----------------------------------------------------------------------


async def test_concurrent_puts_of_different_fields_all_persist(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await alices_task(app)

    for round_ in range(ROUNDS):
        changes: list[dict[str, Any]] = [
            {"title": f"title {round_}"},
            {"description": f"description {round_}"},
            {"is_completed": round_ % 2 == 0},
        ]
        responses = await asyncio.gather(
            *(send(client, ALICE, "PUT", task.id, change) for change in changes)
        )

        assert [response.status_code for response in responses] == [200] * 3
        row = await row_of(app, task.id)
        assert {name: row[name] for name in ("title", "description", "is_completed")} == {
            name: value for change in changes for name, value in change.items()
        }


async def test_concurrent_creates_by_two_users_are_all_stored_with_their_owners(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    requests = [(ALICE if n % 2 else BOB, f"task {n}") for n in range(25)]

    responses = await asyncio.gather(
        *(
            client.post("/api/tasks", json={"title": title}, headers=auth(user))
            for user, title in requests
        )
    )

    assert [response.status_code for response in responses] == [201] * len(requests)
    ids = [response.json()["id"] for response in responses]
    assert len(set(ids)) == len(requests)
    stored = {str(task.id): (task.user_id, task.title) for task in await all_tasks(app)}
    assert stored == dict(zip(ids, requests, strict=True))


async def test_concurrent_deletes_of_one_task_give_one_204_and_404s(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for _ in range(ROUNDS):
        task = await alices_task(app)

        responses = await asyncio.gather(
            *(send(client, ALICE, "DELETE", task.id) for _ in range(5))
        )

        assert sorted(response.status_code for response in responses) == [204, 404, 404, 404, 404]
        assert [r.json() for r in responses if r.status_code == 404] == [NOT_FOUND] * 4
        assert await all_tasks(app) == []


async def test_concurrent_puts_by_owner_and_other_user_only_the_owners_persists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await alices_task(app)
    bobs_change = {"title": "bob was here", "description": None, "is_completed": True}

    for round_ in range(ROUNDS):
        before = await row_of(app, task.id)
        alice, bob = await asyncio.gather(
            send(client, ALICE, "PUT", task.id, {"title": f"alice {round_}"}),
            send(client, BOB, "PUT", task.id, bobs_change),
        )

        assert alice.status_code == 200, alice.text
        assert (bob.status_code, bob.json()) == (403, FORBIDDEN)
        after = await row_of(app, task.id)
        assert after.pop("updated_at") > before.pop("updated_at")
        assert after.pop("version") > before.pop("version")
        assert after == {**before, "title": f"alice {round_}"}


async def test_concurrent_requests_by_another_user_change_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await alices_task(app)
    before = await row_of(app, task.id)
    bodies = [{"title": f"bob {n}", "is_completed": True, "description": None} for n in range(10)]

    responses = await asyncio.gather(
        *(send(client, BOB, "PUT", task.id, body) for body in bodies),
        *(send(client, BOB, "DELETE", task.id) for _ in range(5)),
    )

    assert [response.json() for response in responses] == [FORBIDDEN] * 15
    assert await row_of(app, task.id) == before


# --- 7. updated_at ------------------------------------------------------------------------


async def test_nothing_bob_sends_moves_the_updated_at_of_alices_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await alices_task(app)
    updated_at = (await row_of(app, task.id))["updated_at"]

    for method, body in BOB_WELL_FORMED:
        await send(client, BOB, method, task.id, body)
    for content, _, _ in BOB_INVALID:
        await put_raw(client, BOB, task.id, content)

    assert (await row_of(app, task.id))["updated_at"] == updated_at
    response = await send(client, ALICE, "GET", task.id)
    assert datetime.fromisoformat(response.json()["updated_at"]) == updated_at
