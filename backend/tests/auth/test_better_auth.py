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

from app.auth.tokens import mint_token
from tests.conftest import StartApp
from tests.support.better_auth_server import BetterAuthServer, better_auth_server
from tests.support.helpers import all_rows, all_tasks


@pytest.fixture(scope="module", params=[None, "ES256", "ES512", "RS256", "PS256"], ids=str)
def better_auth_algorithm(request: pytest.FixtureRequest) -> str | None:
    """None: the plugin's defaults (EdDSA with Ed25519)."""
    algorithm: str | None = request.param
    return algorithm


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


# --- Better Auth's own JWTs are not API tokens, even with its secret -----------------------
# It signs the session cookie cache (`jwt` strategy) and email verification links HS256 with
# the secret it is given. An API given the same secret used to accept the verification token
# as its user's API token wherever JWT_USER_ID_CLAIM names a claim it carries (`userId`,
# `email`): RFC 8725 2.8 and 3.11. Where the user id is read from a claim other than `sub`,
# HMAC API tokens must now carry `typ: at+jwt`; with `sub`, Better Auth's own JWTs have none.


@pytest.fixture(scope="module")
def better_auth_defaults() -> Iterator[BetterAuthServer]:
    with better_auth_server() as server:
        yield server


def test_better_auths_own_jwts_are_signed_with_its_secret(
    better_auth_defaults: BetterAuthServer,
) -> None:
    server = better_auth_defaults
    for own_jwt in (server.session_cache_jwt, server.verification_token):
        assert jwt.get_unverified_header(own_jwt) == {"alg": "HS256"}  # no typ
        claims = jwt.decode(own_jwt, server.secret, algorithms=["HS256"])  # a valid signature
        assert claims["exp"] > claims["iat"]
    verification = jwt.decode(server.verification_token, server.secret, algorithms=["HS256"])
    assert verification["userId"] == server.user_id


@pytest.mark.parametrize(
    ("artefact", "user_id_claim"),
    [
        pytest.param("verification_token", "userId", id="verification-token-userId"),
        pytest.param("verification_token", "email", id="verification-token-email"),
        pytest.param("verification_token", "sub", id="verification-token-sub"),
        pytest.param("session_cache_jwt", "sub", id="session-cache-sub"),
    ],
)
async def test_better_auths_own_jwts_are_refused_with_a_shared_secret(
    start_app: StartApp,
    better_auth_defaults: BetterAuthServer,
    artefact: str,
    user_id_claim: str,
) -> None:
    server = better_auth_defaults
    settings = {"better_auth_secret": server.secret, "jwt_user_id_claim": user_id_claim}
    own_jwt = getattr(server, artefact)
    api_token = mint_token(
        server.secret, server.user_id, extra_claims={user_id_claim: server.user_id}
    )
    async with start_app(**settings) as (app, client):
        refused = await client.post(
            "/api/tasks", json={"title": "x"}, headers={"Authorization": f"Bearer {own_jwt}"}
        )
        rows_after_refusal = await all_rows(app)
        accepted = await client.get("/api/tasks", headers={"Authorization": f"Bearer {api_token}"})

    assert refused.status_code == 401, refused.text
    assert refused.json()["error_code"] == "INVALID_TOKEN"
    assert rows_after_refusal == []
    assert accepted.status_code == 200  # the same secret still signs real API tokens
