"""End to end with the real thing: a Better Auth server (Node.js, the jwt plugin) signs a user
up and mints a token the way `authClient.token()` gets one, and the API, pointed at that
server's JWKS URL, accepts it. Once per algorithm Better Auth can be configured with.

Needs Node.js and `npm ci` in e2e/better-auth (scripts/test runs it when npm is there).
Skipped without them, unless TASKAPI_REQUIRE_BETTER_AUTH=1 (CI), in which case it fails.
"""

import json
from collections.abc import Iterator

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.better_auth_server import BetterAuthServer, better_auth_server
from tests.helpers import all_tasks


@pytest.fixture(scope="module", params=[None, "ES256", "ES512", "RS256", "PS256"], ids=str)
def better_auth(request: pytest.FixtureRequest) -> Iterator[BetterAuthServer]:
    """None: the plugin's defaults (EdDSA with Ed25519)."""
    with better_auth_server(request.param) as server:
        yield server


@pytest.fixture
def settings_overrides(better_auth: BetterAuthServer) -> dict[str, object]:
    """What the README tells a Better Auth deployment to set, and no shared secret."""
    return {"better_auth_secret": None, **better_auth.settings()}


async def test_better_auth_token_is_accepted_and_names_the_owner(
    app: FastAPI, client: httpx.AsyncClient, better_auth: BetterAuthServer
) -> None:
    headers = {"Authorization": f"Bearer {better_auth.token}"}

    created = await client.post("/api/tasks", json={"title": "Buy milk"}, headers=headers)
    listed = await client.get("/api/tasks", headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == better_auth.user_id
    assert listed.status_code == 200
    assert [task["id"] for task in listed.json()] == [created.json()["id"]]
    assert [task.user_id for task in await all_tasks(app)] == [better_auth.user_id]


async def test_better_auth_token_has_the_shape_the_docs_describe(
    better_auth: BetterAuthServer,
) -> None:
    header = jwt.get_unverified_header(better_auth.token)
    claims = jwt.decode(better_auth.token, options={"verify_signature": False})

    assert set(header) == {"alg", "kid"}  # no typ
    assert claims["sub"] == claims["id"] == better_auth.user_id
    assert claims["iss"] == claims["aud"] == better_auth.base_url
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_better_auth_token_with_a_changed_subject_is_refused(
    app: FastAPI, client: httpx.AsyncClient, better_auth: BetterAuthServer
) -> None:
    header, payload, signature = better_auth.token.split(".")
    claims = jwt.decode(better_auth.token, options={"verify_signature": False})
    forged_payload = jwt.utils.base64url_encode(
        json.dumps({**claims, "sub": "someone-else"}).encode()
    ).decode()

    response = await client.post(
        "/api/tasks",
        json={"title": "Buy milk"},
        headers={"Authorization": f"Bearer {header}.{forged_payload}.{signature}"},
    )

    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "INVALID_TOKEN"
    assert await all_tasks(app) == []
