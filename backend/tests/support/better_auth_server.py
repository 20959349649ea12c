"""A real Better Auth server (Node.js, e2e/better-auth/server.mjs) that has signed a user up
and minted a token the way `authClient.token()` gets one.

Needs Node.js and `npm ci` in e2e/better-auth (scripts/test runs it when npm is there).
Skipped without them, unless TASKAPI_REQUIRE_BETTER_AUTH=1 (CI), in which case it fails.
"""

import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parents[3] / "e2e" / "better-auth"
REQUIRE_BETTER_AUTH = os.environ.get("TASKAPI_REQUIRE_BETTER_AUTH") == "1"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class BetterAuthServer:
    base_url: str
    jwks_url: str
    token: str  # for user_id, signed by Better Auth
    user_id: str
    # What Better Auth signs HS256 with its own secret, for other purposes than this API.
    secret: str
    session_cache_jwt: str  # the session cookie cache, `cookieCache.strategy: "jwt"`
    verification_token: str  # from an email verification link

    def settings(self) -> dict[str, str]:
        """What the README tells a Better Auth deployment to set."""
        return {
            "auth_jwks_url": self.jwks_url,
            "auth_issuer": self.base_url,
            "auth_audience": self.base_url,
        }


def _node_command(algorithm: str | None) -> list[str]:
    node = shutil.which("node")
    if node is None or not (E2E_DIR / "node_modules" / "better-auth").is_dir():
        message = f"needs Node.js and `npm ci` in {E2E_DIR}"
        if REQUIRE_BETTER_AUTH:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return [node, "server.mjs", *([algorithm] if algorithm else [])]


@contextmanager
def better_auth_server(
    algorithm: str | None = None, audience: str | None = None
) -> Iterator[BetterAuthServer]:
    """None: the jwt plugin's defaults (EdDSA with Ed25519; `aud` the server's base URL)."""
    command = _node_command(algorithm)
    env = {**os.environ, **({"TOKEN_AUDIENCE": audience} if audience else {})}
    with subprocess.Popen(
        command, cwd=E2E_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            pytest.fail(f"Better Auth did not start: {process.stderr.read()}", pytrace=False)
        try:
            yield BetterAuthServer(**json.loads(line))
        finally:
            process.kill()
