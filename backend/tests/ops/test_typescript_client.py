"""The TypeScript SDK in clients/typescript, as users get it: the packed tarball installed
into a fresh strict project (NodeNext and bundler resolution), its tests and its Next.js
examples compiled there, then run in Node.js against a live server (SQLite and PostgreSQL)
with a real Better Auth token, including an event stream that outlives a server restart.
Also: the generated types are what docs/openapi.json generates, the package's version is the
API's, and the document passes Redocly's recommended rules.

The build and the install happen once per pytest process (tests/ops/conftest.py).
"""

import json
import os
import subprocess
import tarfile
from datetime import timedelta
from pathlib import Path

import httpx

from app.sync.tokens import token_of
from tests.conftest import StartApp
from tests.support.better_auth_server import BetterAuthServer
from tests.support.helpers import BOB, all_tasks, free_port, token_for
from tests.support.live_server import live_server, live_server_on
from tests.support.typescript_sdk import CLIENT_DIR, ROOT, run, tool

STREAMS_PER_USER = 2  # SSE_MAX_STREAMS_PER_USER for the flow's server: the limit test meets it
# A sync token from "another database" (a seq this one never reached): 410 SYNC_TOKEN_EXPIRED.
FUTURE_SEQ = 10**12
FLOW_TESTS = 10


def test_checked_in_types_are_what_the_document_generates() -> None:
    result = run(tool("openapi-typescript"), str(ROOT / "docs" / "openapi.json"), cwd=CLIENT_DIR)

    assert result.returncode == 0, result.stderr
    checked_in = (CLIENT_DIR / "src" / "schema.ts").read_text(encoding="utf-8")
    assert result.stdout == checked_in, "clients/typescript/src/schema.ts is stale: scripts/openapi"


def test_the_package_version_is_the_apis() -> None:
    manifest = json.loads((CLIENT_DIR / "package.json").read_text())
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())

    assert manifest["version"] == document["info"]["version"]
    assert "private" not in manifest


def test_the_tarball_ships_the_built_files_and_nothing_else(sdk_tarball: Path) -> None:
    with tarfile.open(sdk_tarball) as archive:
        names = {name.removeprefix("package/") for name in archive.getnames()}

    assert {"package.json", "README.md", "dist/index.js", "dist/index.d.ts"} <= names
    assert {name for name in names if not name.startswith("dist/")} == {"package.json", "README.md"}
    assert all(name.endswith((".js", ".d.ts")) for name in names if name.startswith("dist/"))


def test_installed_from_the_tarball_it_runs_under_node(sdk_project: Path) -> None:
    script = 'import("@taskapi/client").then((sdk) => console.log(Object.keys(sdk).sort().join()))'
    result = run(tool("node"), "-e", script, cwd=sdk_project)

    assert result.returncode == 0, result.stderr
    assert "createTaskApi" in result.stdout.split(",")
    # The tests and examples compiled against the installed .d.ts, strictly, in both modes
    # (the package itself was compiled strictly by its build).
    assert (sdk_project / "out" / "test" / "flow.test.js").is_file()


def test_the_readme_shows_each_example_as_checked_in() -> None:
    readme = (CLIENT_DIR / "README.md").read_text()
    examples = [
        path
        for path in (CLIENT_DIR / "examples").rglob("*")
        if path.suffix in {".ts", ".tsx"} and path.stem != "auth-client"
    ]

    assert len(examples) == 5
    for path in examples:
        assert path.read_text().rstrip("\n") in readme, f"README lacks {path.name} as it is"


def test_document_passes_redocly_recommended_rules() -> None:
    document = str(ROOT / "docs" / "openapi.json")
    result = run(tool("redocly"), "lint", document, "--extends=recommended", cwd=CLIENT_DIR)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your API description is valid" in result.stdout + result.stderr


def test_helpers_against_fake_servers(sdk_project: Path) -> None:
    result = run(
        tool("node"), "--test", "--test-timeout=60000", "out/test/unit.test.js", cwd=sdk_project
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0\n" in result.stdout


async def test_node_flow_against_a_live_server_with_a_better_auth_token(
    start_app: StartApp,
    database_url: str,
    sdk_project: Path,
    better_auth: BetterAuthServer,
    tmp_path: Path,
) -> None:
    claims = {"issuer": better_auth.base_url, "audience": better_auth.base_url}
    users = [
        *("walker", "syncer", "editor", "creator", "streamer", "limited", "organiser"),
        "arborist",
    ]
    settings = {**better_auth.settings(), "sse_max_streams_per_user": str(STREAMS_PER_USER)}
    async with start_app() as (app, _):
        with live_server(database_url, tmp_path, **settings) as base_url:
            result = run(
                tool("node"),
                "--test",
                "--test-timeout=60000",
                "out/test/flow.test.js",
                cwd=sdk_project,
                env={
                    "TASKAPI_URL": base_url,
                    "TASKAPI_TOKEN": better_auth.token,
                    "TASKAPI_USER_ID": better_auth.user_id,
                    "TASKAPI_OTHER_TOKEN": token_for(BOB, **claims),
                    "TASKAPI_EXPIRED_TOKEN": token_for(
                        better_auth.user_id, expires_in=timedelta(minutes=-5), **claims
                    ),
                    **{
                        f"TASKAPI_{user.upper()}_TOKEN": token_for(user, **claims) for user in users
                    },
                    "TASKAPI_STALE_SYNC_TOKEN": token_of(FUTURE_SEQ, "syncer"),
                    "TASKAPI_STREAMER_STALE_TOKEN": token_of(FUTURE_SEQ, "streamer"),
                    "TASKAPI_OTHER_SYNC_TOKEN": token_of(1, BOB),
                    "TASKAPI_STREAMS_PER_USER": str(STREAMS_PER_USER),
                },
            )

        assert result.returncode == 0, result.stdout + result.stderr
        assert f"# pass {FLOW_TESTS}\n" in result.stdout, result.stdout
        rows = {(task.user_id, task.title, task.is_completed) for task in await all_tasks(app)}
    titles = {(user, title) for user, title, _ in rows}
    assert (better_auth.user_id, "second", False) in rows
    assert (better_auth.user_id, "third (done)", True) in rows
    assert (better_auth.user_id, "first") not in titles
    assert {title for user, title in titles if user == "syncer"} == {"a, renamed", "c"}
    assert {title for user, title in titles if user == "creator"} == {"exactly once"}
    assert {title for user, title in titles if user == "editor"} == set()
    assert {title for user, title in titles if user == "streamer"} == {"while away"}
    assert {title for user, title in titles if user == "arborist"} == {"plan", "step", "detail"}
    # The batch that failed wrote nothing ("d"); the one that passed completed "a".
    assert {(title, done) for user, title, done in rows if user == "organiser"} == {
        ("a", True),
        ("b", False),
        ("c", False),
    }


async def test_an_event_stream_survives_a_server_restart_without_missing_an_event(
    start_app: StartApp,
    database_url: str,
    sdk_project: Path,
    better_auth: BetterAuthServer,
    tmp_path: Path,
) -> None:
    async with start_app() as (app, _):
        result = _restart_under_a_stream(database_url, sdk_project, better_auth, tmp_path)

        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout == "ok\n"
        titles = {task.title for task in await all_tasks(app)}
    assert titles == {"before the restart", "while it was down", "after the restart"}


def _restart_under_a_stream(
    database_url: str, project: Path, better_auth: BetterAuthServer, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """test/restart.ts follows the stream of a server on `port`; when it says "restart", that
    server stops (SIGTERM), a task is created through a second server on the same database,
    and the first starts again on the same port."""
    port, settings = free_port(), better_auth.settings()
    env = {
        **os.environ,
        "TASKAPI_URL": f"http://127.0.0.1:{port}",
        "TASKAPI_TOKEN": better_auth.token,
    }
    script = subprocess.Popen(
        [tool("node"), "out/test/restart.js"],
        cwd=project,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with live_server(database_url, tmp_path, **settings) as side_door:
            with live_server_on(port, database_url, tmp_path, **settings):
                said = script.stdout.readline() if script.stdout else ""
                if said != "restart\n":
                    stdout, stderr = script.communicate(timeout=30)
                    return subprocess.CompletedProcess(script.args, 1, said + stdout, stderr)
            # Down (its stream was told SERVER_RESTARTING): a change it must not miss.
            answer = httpx.post(
                f"{side_door}/api/tasks",
                json={"title": "while it was down"},
                headers={"Authorization": f"Bearer {better_auth.token}"},
            )
            assert answer.status_code == 201, answer.text
            with live_server_on(port, database_url, tmp_path, **settings):
                stdout, stderr = script.communicate("restarted\n", timeout=60)
        return subprocess.CompletedProcess(script.args, script.returncode, stdout, stderr)
    finally:
        script.kill()
