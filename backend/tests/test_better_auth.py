"""End to end with the real thing: a Better Auth server (Node.js, the jwt plugin) signs a user
up and mints a token the way `authClient.token()` gets one, and the API, pointed at that
server's JWKS URL, accepts it. Once per algorithm Better Auth can be configured with.

Needs Node.js and `npm ci` in e2e/better-auth (scripts/test runs it when npm is there).
Skipped without them, unless TASKAPI_REQUIRE_BETTER_AUTH=1 (CI), in which case it fails.
"""

import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.helpers import all_tasks

E2E_DIR = Path(__file__).resolve().parents[2] / "e2e" / "better-auth"
REQUIRE_BETTER_AUTH = os.environ.get("TASKAPI_REQUIRE_BETTER_AUTH") == "1"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class BetterAuthServer:
    base_url: str
    jwks_url: str
    token: str  # for user_id, signed by Better Auth
    user_id: str


def _node_command(algorithm: str | None) -> list[str]:
    node = shutil.which("node")
    if node is None or not (E2E_DIR / "node_modules" / "better-auth").is_dir():
        message = f"needs Node.js and `npm ci` in {E2E_DIR}"
        if REQUIRE_BETTER_AUTH:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return [node, "server.mjs", *([algorithm] if algorithm else [])]


@pytest.fixture(scope="module", params=[None, "ES256", "ES512", "RS256", "PS256"], ids=str)
def better_auth(request: pytest.FixtureRequest) -> Iterator[BetterAuthServer]:
    """None: the plugin's defaults (EdDSA with Ed25519)."""
    command = _node_command(request.param)
    with subprocess.Popen(
        command, cwd=E2E_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            pytest.fail(f"Better Auth did not start: {process.stderr.read()}", pytrace=False)
        yield BetterAuthServer(**json.loads(line))
        process.kill()


@pytest.fixture
def settings_overrides(better_auth: BetterAuthServer) -> dict[str, object]:
    """What the README tells a Better Auth deployment to set, and no shared secret."""
    return {
        "better_auth_secret": None,
        "auth_jwks_url": better_auth.jwks_url,
        "auth_issuer": better_auth.base_url,
        "auth_audience": better_auth.base_url,
    }


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
