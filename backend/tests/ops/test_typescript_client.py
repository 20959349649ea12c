"""The TypeScript client in clients/typescript: its types are what docs/openapi.json generates
(openapi-typescript, default options), it type-checks with `tsc --strict`, the document passes
Redocly's recommended rules, and the whole flow runs in Node.js against a live server with a
real Better Auth token.

Needs Node.js and `npm ci` in clients/typescript (scripts/test runs it when npm is there).
Skipped without them, unless TASKAPI_REQUIRE_TYPESCRIPT=1 (CI), in which case it fails.
"""

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import StartApp
from tests.support.better_auth_server import BetterAuthServer
from tests.support.helpers import BOB, all_tasks, token_for
from tests.support.live_server import live_server

ROOT = Path(__file__).resolve().parents[3]
CLIENT_DIR = ROOT / "clients" / "typescript"
REQUIRE_TYPESCRIPT = os.environ.get("TASKAPI_REQUIRE_TYPESCRIPT") == "1"
# The user whose filtered walk by cursor flow.test.ts checks, and the tasks it creates.
WALKER = "walker"
WALKER_TITLES = [
    "walk 1",
    "walk 2",
    "walk 3",
    "walk, low",
    "walk, untagged",
    "walk, too early",
    "not found by q",
]
# Redocly: no telemetry, no update check; this runs offline.
QUIET_REDOCLY = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


def node(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`node ARGS` in clients/typescript."""
    executable = shutil.which("node")
    if executable is None or not (CLIENT_DIR / "node_modules" / ".bin").is_dir():
        message = f"needs Node.js and `npm ci` in {CLIENT_DIR}"
        if REQUIRE_TYPESCRIPT:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return subprocess.run(
        [executable, *args],
        cwd=CLIENT_DIR,
        env={**os.environ, **QUIET_REDOCLY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def node_tool(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A tool installed in clients/typescript (`tsc`, `redocly`...)."""
    return node(str(CLIENT_DIR / "node_modules" / ".bin" / tool), *args)


@pytest.fixture(scope="module")
def built_client(worker_id: str) -> Path:
    """`tsc --strict` over the client and its tests, compiled to dist/<pytest worker>/ (one
    folder per worker, so parallel builds never write the same file; inside the package, so
    Node.js finds its node_modules)."""
    out_dir = CLIENT_DIR / "dist" / worker_id
    result = node_tool("tsc", "-p", "tsconfig.json", "--outDir", str(out_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return out_dir


def test_checked_in_types_are_what_the_document_generates() -> None:
    result = node_tool("openapi-typescript", str(ROOT / "docs" / "openapi.json"))

    assert result.returncode == 0, result.stderr
    checked_in = (CLIENT_DIR / "src" / "schema.d.ts").read_text(encoding="utf-8")
    assert result.stdout == checked_in, (
        "clients/typescript/src/schema.d.ts is stale: scripts/openapi"
    )


def test_client_and_its_tests_type_check_strictly(built_client: Path) -> None:
    assert (built_client / "src" / "index.js").is_file()
    assert (built_client / "test" / "flow.test.js").is_file()


def test_document_passes_redocly_recommended_rules() -> None:
    result = node_tool(
        "redocly", "lint", str(ROOT / "docs" / "openapi.json"), "--extends=recommended"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your API description is valid" in result.stdout + result.stderr


async def test_node_flow_against_a_live_server_with_a_better_auth_token(
    start_app: StartApp,
    database_url: str,
    built_client: Path,
    better_auth: BetterAuthServer,
    tmp_path: Path,
) -> None:
    async with start_app() as (app, _):
        with live_server(database_url, tmp_path, **better_auth.settings()) as base_url:
            # Another user, and an expired token: shared-secret tokens from the same issuer.
            claims = {"issuer": better_auth.base_url, "audience": better_auth.base_url}
            expired = token_for(BOB, expires_in=timedelta(minutes=-5), **claims)
            result = node(
                "--test",
                str(built_client / "test" / "flow.test.js"),
                env={
                    "TASKAPI_URL": base_url,
                    "TASKAPI_TOKEN": better_auth.token,
                    "TASKAPI_USER_ID": better_auth.user_id,
                    "TASKAPI_OTHER_TOKEN": token_for(BOB, **claims),
                    "TASKAPI_EXPIRED_TOKEN": expired,
                    "TASKAPI_WALKER_TOKEN": token_for(WALKER, **claims),
                },
            )

        assert result.returncode == 0, result.stdout + result.stderr
        assert "# pass 2\n" in result.stdout, result.stdout
        rows = {(task.user_id, task.title, task.is_completed) for task in await all_tasks(app)}
        assert rows == {
            (better_auth.user_id, "second", False),
            (better_auth.user_id, "third (done)", True),
            (BOB, "not alice's", False),
            *((WALKER, title, False) for title in WALKER_TITLES),
        }
