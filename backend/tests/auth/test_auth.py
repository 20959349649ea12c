"""Authentication through the whole stack, on both databases: every endpoint asks the token
verifier, answers its 401s with the exact envelope and `WWW-Authenticate: Bearer`, writes
nothing, logs why, and takes the caller from the token alone. (The token rules themselves are
unit-tested in tests/auth/test_token_verifier.py.)"""

import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    all_tasks,
    assert_401,
    auth,
    b64url,
    bearer,
    make_task,
    post_task,
    token_for,
)

ENDPOINTS = [
    pytest.param("GET", "/api/tasks", None, id="list"),
    pytest.param("POST", "/api/tasks", {"title": "new"}, id="create"),
    pytest.param("GET", "/api/tasks/{id}", None, id="get"),
    pytest.param("PUT", "/api/tasks/{id}", {"title": "changed"}, id="update"),
    pytest.param("DELETE", "/api/tasks/{id}", None, id="delete"),
]

CREDENTIALS = [
    pytest.param(lambda: {}, "NOT_AUTHENTICATED", id="no-token"),
    pytest.param(lambda: bearer("not-a-jwt"), "INVALID_TOKEN", id="invalid-token"),
    pytest.param(
        lambda: auth(ALICE, expires_in=timedelta(minutes=-5)), "TOKEN_EXPIRED", id="expired"
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(("headers", "error_code"), CREDENTIALS)
async def test_every_endpoint_is_401_without_valid_credentials_and_writes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, str] | None,
    headers: Callable[[], dict[str, str]],
    error_code: str,
) -> None:
    task = await make_task(app, ALICE)
    before = await all_rows(app)

    response = await client.request(method, path.format(id=task.id), json=body, headers=headers())

    assert_401(response, error_code)
    assert await all_rows(app) == before


# --- a valid token --------------------------------------------------------------------------


async def test_valid_token_lists_only_its_subjects_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    mine = await make_task(app, ALICE)
    await make_task(app, BOB)

    response = await client.get("/api/tasks", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert [task["id"] for task in response.json()] == [str(mine.id)]


async def test_valid_token_creates_a_task_owned_by_its_subject(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await post_task(client, auth(BOB))

    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == BOB
    assert [task.user_id for task in await all_tasks(app)] == [BOB]


async def test_bearer_scheme_is_case_insensitive(app: FastAPI, client: httpx.AsyncClient) -> None:
    schemes = ["bearer", "BEARER", "BeArEr"]

    for scheme in schemes:
        response = await post_task(client, {"Authorization": f"{scheme} {token_for(ALICE)}"})
        assert response.status_code == 201, (scheme, response.text)

    assert [task.user_id for task in await all_tasks(app)] == [ALICE] * len(schemes)


# --- no bearer token, or two --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Basic " + b64url(f"{ALICE}:password".encode()), id="basic"),
        pytest.param("Token {token}", id="token-scheme"),
        pytest.param("JWT {token}", id="jwt-scheme"),
        pytest.param("{token}", id="no-scheme"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer   ", id="bearer-and-spaces"),
        pytest.param("", id="empty"),
    ],
)
async def test_authorization_without_a_bearer_token_is_not_authenticated(
    app: FastAPI, client: httpx.AsyncClient, value: str
) -> None:
    headers = {"Authorization": value.format(token=token_for(ALICE))}

    assert_401(await post_task(client, headers), "NOT_AUTHENTICATED")
    assert await all_tasks(app) == []


@pytest.mark.parametrize("second", [BOB, ALICE])
async def test_two_authorization_headers_are_refused(
    app: FastAPI, client: httpx.AsyncClient, second: str
) -> None:
    # RFC 9110 allows one: with two, a proxy and the app could each pick a different caller.
    headers = [("Authorization", auth(ALICE)["Authorization"]), *auth(second).items()]

    assert_401(await post_task(client, headers), "INVALID_TOKEN")
    assert await all_tasks(app) == []


# --- identity comes from the token only -----------------------------------------------------


async def test_user_id_query_parameter_does_not_change_the_owner_of_a_new_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        f"/api/tasks?user_id={BOB}", json={"title": "a task"}, headers=auth(ALICE)
    )

    assert response.status_code == 201, response.text
    assert [task.user_id for task in await all_tasks(app)] == [ALICE]


async def test_user_id_query_parameter_does_not_reveal_another_users_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_task(app, BOB)

    response = await client.get(f"/api/tasks?user_id={BOB}", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert response.json() == []


async def test_identity_headers_do_not_change_the_caller(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    names = ["X-User-Id", "X-Forwarded-User", "X-Auth-Request-User", "Remote-User"]

    for name in names:
        response = await post_task(client, {**auth(ALICE), name: BOB})
        assert (response.status_code, response.json()["user_id"]) == (201, ALICE), name

    assert [task.user_id for task in await all_tasks(app)] == [ALICE] * len(names)


async def test_identity_header_without_a_token_is_not_authenticated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert_401(await post_task(client, {"X-User-Id": ALICE}), "NOT_AUTHENTICATED")
    assert await all_tasks(app) == []


async def test_user_id_in_an_update_body_is_400_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await make_task(app, ALICE)
    before = await all_rows(app)

    response = await client.put(
        f"/api/tasks/{task.id}", json={"title": "mine now", "user_id": BOB}, headers=auth(ALICE)
    )

    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert await all_rows(app) == before


# --- logging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        pytest.param(lambda: None, "authorization", id="no-header"),
        pytest.param(lambda: "not-a-jwt", "segments", id="garbage"),
        pytest.param(
            lambda: token_for(ALICE, expires_in=timedelta(minutes=-5)), "expired", id="expired"
        ),
        pytest.param(
            lambda: token_for(ALICE, extra_claims={"sub": "alice\x00"}), "sub", id="bad-sub"
        ),
    ],
)
async def test_authentication_failure_is_logged_with_a_reason_and_never_the_token(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    make_token: Callable[[], str | None],
    reason: str,
) -> None:
    token = make_token()
    caplog.set_level(logging.DEBUG)

    response = await post_task(client, bearer(token) if token is not None else {})

    assert response.status_code == 401, response.text
    [record] = [record for record in caplog.records if record.name == "taskapi.auth"]
    assert record.levelno == logging.WARNING
    assert reason.lower() in record.getMessage().lower()
    assert "POST /api/tasks" in record.getMessage()
    if token:
        for secret_text in {token, token.rsplit(".", 1)[-1]}:
            assert secret_text not in caplog.text
