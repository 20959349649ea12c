"""`taskapi` as a user runs it: a real subprocess in an empty directory, with none of the
settings variables of the shell that runs the tests."""

import json
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.engine import make_url

from app.db.migrate import head_revision
from tests.support.helpers import (
    SECRET,
    STARTUP_DEADLINE_SECONDS,
    DevServer,
    environment_without_settings,
    free_port,
)

# Where development files go, under the test's XDG_STATE_HOME (see `clean_env`).
SECRET_FILE = Path("state") / "taskapi" / "dev-secret"
TOKEN_FILE = Path("state") / "taskapi" / "dev-token"
JWKS_SETTINGS = {
    "AUTH_JWKS_URL": "http://127.0.0.1:9/api/auth/jwks",
    "AUTH_ISSUER": "http://127.0.0.1:3000",
    "AUTH_AUDIENCE": "http://127.0.0.1:3000",
}


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    return environment_without_settings() | {"XDG_STATE_HOME": str(tmp_path / "state")}


def taskapi(
    cwd: Path, env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def verify(token: str, secret: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    return claims


def test_token_is_signed_with_a_generated_dev_secret(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    result = taskapi(tmp_path, clean_env, "token", "--user", "alice")

    assert result.returncode == 0, result.stderr
    secret_file = tmp_path / SECRET_FILE
    secret = secret_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    claims = verify(result.stdout.strip(), secret)
    assert claims["sub"] == "alice"
    assert result.stderr == f"taskapi: signed with the development secret in {secret_file}\n"


def test_token_from_any_folder_uses_the_one_dev_secret(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """`cd backend && taskapi token` signs with the secret `serve --dev` made at the root."""
    subfolder = tmp_path / "backend"
    subfolder.mkdir()
    at_root = taskapi(tmp_path, clean_env, "token", "--user", "alice")
    secret = (tmp_path / SECRET_FILE).read_text().strip()

    below = taskapi(subfolder, clean_env, "token", "--user", "alice")

    assert below.returncode == 0, below.stderr
    assert verify(at_root.stdout.strip(), secret)["sub"] == "alice"
    assert verify(below.stdout.strip(), secret)["sub"] == "alice"
    assert list(subfolder.iterdir()) == []
    assert not (tmp_path / ".taskapi").exists()


def test_token_lasts_as_long_as_the_banner_token_by_default(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    result = taskapi(tmp_path, clean_env, "token", "--user", "bob")

    claims = verify(result.stdout.strip(), (tmp_path / SECRET_FILE).read_text().strip())
    assert claims["exp"] == claims["iat"] + 24 * 3600


def test_token_expires_after_the_requested_seconds(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    result = taskapi(tmp_path, clean_env, "token", "--user", "bob", "--expires-in", "120")

    assert result.returncode == 0, result.stderr
    claims = verify(result.stdout.strip(), (tmp_path / SECRET_FILE).read_text().strip())
    assert claims["sub"] == "bob"
    assert claims["exp"] == claims["iat"] + 120


def test_second_token_reuses_the_dev_secret(tmp_path: Path, clean_env: dict[str, str]) -> None:
    first = taskapi(tmp_path, clean_env, "token", "--user", "alice")
    secret = (tmp_path / SECRET_FILE).read_text()

    second = taskapi(tmp_path, clean_env, "token", "--user", "bob")

    assert second.returncode == 0, second.stderr
    assert (tmp_path / SECRET_FILE).read_text() == secret
    assert verify(first.stdout.strip(), secret.strip())["sub"] == "alice"
    assert verify(second.stdout.strip(), secret.strip())["sub"] == "bob"


def test_token_uses_better_auth_secret_from_the_environment(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    result = taskapi(tmp_path, {**clean_env, "BETTER_AUTH_SECRET": SECRET}, "token", "--user", "al")

    assert result.returncode == 0, result.stderr
    assert verify(result.stdout.strip(), SECRET)["sub"] == "al"
    assert result.stderr == "taskapi: signed with BETTER_AUTH_SECRET\n"
    assert not (tmp_path / SECRET_FILE).exists()


@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+aiosqlite"])
def test_migrate_creates_the_tasks_table(
    tmp_path: Path, clean_env: dict[str, str], scheme: str
) -> None:
    database = tmp_path / "cli.db"
    env = {**clean_env, "DATABASE_URL": f"{scheme}:///{database}"}

    result = taskapi(tmp_path, env, "migrate")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database at revision {head_revision()}"
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        [(version,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert "tasks" in tables
    assert version == head_revision()


def test_migrate_twice_is_a_no_op(tmp_path: Path, clean_env: dict[str, str]) -> None:
    env = {**clean_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    taskapi(tmp_path, env, "migrate")

    again = taskapi(tmp_path, env, "migrate")

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"database at revision {head_revision()}"


@pytest.fixture
def missing_postgres_database(postgres_url: str) -> str:
    """A URL on the test PostgreSQL server naming a database that does not exist."""
    url = make_url(postgres_url).set(drivername="postgresql", database="taskapi_absent_db")
    return url.render_as_string(hide_password=False)


def test_migrate_on_a_missing_postgres_database_says_how_to_create_it(
    tmp_path: Path, clean_env: dict[str, str], missing_postgres_database: str
) -> None:
    env = {**clean_env, "DATABASE_URL": missing_postgres_database}

    result = taskapi(tmp_path, env, "migrate")

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith('taskapi: database "taskapi_absent_db" does not exist on ')
    assert re.search(r"create it with `createdb -h \S+ -p \d+ .*taskapi_absent_db`$", line)
    assert result.stdout == ""


def test_migrate_into_a_missing_sqlite_folder_is_one_line(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    database = tmp_path / "no-such-folder" / "tasks.db"
    env = {**clean_env, "DATABASE_URL": f"sqlite:///{database}"}

    result = taskapi(tmp_path, env, "migrate")

    assert result.returncode == 1
    assert result.stderr == (
        f"taskapi: cannot open the SQLite database {database}: create its folder "
        f"(`mkdir -p {database.parent}`) or change DATABASE_URL\n"
    )
    assert not database.parent.exists()


def test_serve_dev_refuses_jwks_settings_before_writing_a_secret(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, **JWKS_SETTINGS}

    result = taskapi(tmp_path, env, "serve", "--dev", "--port", str(free_port()), timeout=30)

    assert result.returncode == 1
    assert result.stderr == (
        "taskapi: invalid configuration: ENVIRONMENT=development (what `--dev` and `taskapi "
        "token` use) cannot be combined with AUTH_JWKS_URL: remove one of them\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "state").exists()
    assert not (tmp_path / "taskapi.db").exists()


def test_token_refuses_to_mint_beside_jwks(tmp_path: Path, clean_env: dict[str, str]) -> None:
    env = {**clean_env, **JWKS_SETTINGS, "ENVIRONMENT": "production"}

    result = taskapi(tmp_path, env, "token", "--user", "jane")

    assert result.returncode == 1
    assert "cannot be combined with AUTH_JWKS_URL" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_serve_dev_refuses_a_host_other_machines_reach(
    tmp_path: Path, clean_env: dict[str, str], host: str
) -> None:
    result = taskapi(tmp_path, clean_env, "serve", "--dev", "--host", host, timeout=30)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("taskapi: development mode listens on loopback only")
    assert f"not {host}: " in line
    assert result.stdout == ""
    assert not (tmp_path / "state").exists()
    assert not (tmp_path / "taskapi.db").exists()


def test_serve_on_a_busy_port_says_so_before_printing_anything(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = taskapi(tmp_path, clean_env, "serve", "--dev", "--port", str(port), timeout=30)

    assert result.returncode == 1
    assert result.stderr == (
        f"taskapi: cannot listen on 127.0.0.1:{port} (Address already in use): stop what uses "
        f"it, or pick another port with --port {port + 1}\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / TOKEN_FILE).exists()


def test_help_shows_the_defaults(tmp_path: Path, clean_env: dict[str, str]) -> None:
    serve_help = taskapi(tmp_path, clean_env, "serve", "--help").stdout
    token_help = taskapi(tmp_path, clean_env, "token", "--help").stdout

    assert "(default: 127.0.0.1)" in serve_help
    assert "(default: 8000)" in serve_help
    assert "(default: 1)" in serve_help
    assert "(default: 86400)" in token_help


def test_serve_in_production_without_secret_exits_with_a_clear_message(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    result = taskapi(tmp_path, clean_env, "serve", "--port", str(free_port()), timeout=30)

    assert result.returncode != 0
    assert (
        "taskapi: invalid configuration: BETTER_AUTH_SECRET or AUTH_JWKS_URL is required in "
        "production" in result.stderr
    )
    assert "taskapi serve --dev" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "taskapi.db").exists()


def test_serve_refuses_a_cors_origin_that_could_never_match_in_one_line(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, "BETTER_AUTH_SECRET": SECRET, "CORS_ALLOW_ORIGINS": "localhost:3000"}

    result = taskapi(tmp_path, env, "serve", "--port", str(free_port()), timeout=30)

    assert result.returncode == 1
    assert result.stderr == (
        "taskapi: invalid configuration: CORS_ALLOW_ORIGINS: 'localhost:3000' is not an origin: "
        "use scheme://host[:port] (e.g. http://localhost:3000)\n"
    )
    assert not (tmp_path / "taskapi.db").exists()


def test_serve_refuses_more_streams_than_their_share_of_connections_in_one_line(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    # Two thirds of 30 is 20: a 21st stream could leave requests without a connection.
    env = {**clean_env, "BETTER_AUTH_SECRET": SECRET, "MAX_CONNECTIONS": "30"}

    result = taskapi(tmp_path, env | {"SSE_MAX_STREAMS": "21"}, "serve", "--port", "1")

    assert result.returncode == 1
    assert result.stderr == (
        "taskapi: invalid configuration: SSE_MAX_STREAMS (21) must leave a third of "
        "MAX_CONNECTIONS (30) to ordinary requests: at most 20\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "taskapi.db").exists()


def test_serve_in_production_refuses_an_unmigrated_database(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, "BETTER_AUTH_SECRET": "s" * 40}
    result = taskapi(tmp_path, env, "serve", "--port", str(free_port()), timeout=30)

    assert result.returncode == 1
    assert "needs " + str(head_revision()) in result.stderr
    assert "run `taskapi migrate`" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reports_an_unreachable_database_without_its_password(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    env = {
        **clean_env,
        "BETTER_AUTH_SECRET": "s" * 40,
        "DATABASE_URL": "postgresql://taskapi:hunter2@127.0.0.1:1/tasks",
    }
    result = taskapi(tmp_path, env, "serve", "--port", str(free_port()), timeout=30)

    assert result.returncode == 1
    assert "cannot reach the database at postgresql://taskapi:***@127.0.0.1:1/tasks" in (
        result.stderr
    )
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def dev_server(tmp_path: Path, clean_env: dict[str, str]) -> Iterator[DevServer]:
    server = DevServer(tmp_path, clean_env)
    try:
        yield server
    finally:
        server.stop()


def test_serve_dev_answers_health(dev_server: DevServer) -> None:
    health = dev_server.wait_until_healthy()

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


def test_serve_dev_prints_the_docs_url(dev_server: DevServer) -> None:
    dev_server.wait_until_healthy()

    assert f"docs: {dev_server.base_url}/docs" in dev_server.log()
    assert httpx.get(f"{dev_server.base_url}/docs", timeout=5).status_code == 200


def test_serve_dev_banner_has_a_pasteable_curl_and_no_token(
    dev_server: DevServer, tmp_path: Path
) -> None:
    dev_server.wait_until_healthy()
    log = dev_server.log()
    token_file = tmp_path / TOKEN_FILE
    token = token_file.read_text().strip()
    [curl] = [line.split("Try it:", 1)[1].strip() for line in log.splitlines() if "Try it:" in line]

    created = httpx.post(
        f"{dev_server.base_url}/api/tasks",
        json={"title": "hello"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    pasted = subprocess.run(
        ["bash", "-c", curl.replace("curl ", "curl -s ", 1)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert token not in log
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert created.status_code == 201, created.text
    assert pasted.returncode == 0, pasted.stderr
    assert [task["title"] for task in json.loads(pasted.stdout)] == ["hello"]
    venv_taskapi = Path(os.path.abspath(sys.executable)).parent / "taskapi"
    assert f"More tokens:  {venv_taskapi} token --user bob" in log
    with sqlite3.connect(tmp_path / "taskapi.db") as connection:
        rows = connection.execute("SELECT user_id, title FROM tasks").fetchall()
    assert rows == [("alice", "hello")]


def test_serve_dev_refuses_a_request_without_token(dev_server: DevServer) -> None:
    dev_server.wait_until_healthy()

    response = httpx.get(f"{dev_server.base_url}/api/tasks", timeout=5)

    assert response.status_code == 401
    assert response.json()["error_code"] == "NOT_AUTHENTICATED"


def test_serve_access_log_writes_one_json_line_per_request(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    server = DevServer(tmp_path, clean_env, "--access-log")
    try:
        server.wait_until_healthy()
        refused = httpx.get(
            f"{server.base_url}/api/tasks", headers={"X-Request-ID": "cli-1"}, timeout=5
        )
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while '"cli-1"' not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.stop()

    assert refused.status_code == 401
    assert refused.headers["X-Request-ID"] == "cli-1"
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert any("Uvicorn running" in line["message"] for line in lines), server.log()
    [request] = [
        line
        for line in lines
        if line.get("request_id") == "cli-1" and line["logger"] == "taskapi.request"
    ]
    assert (request["method"], request["route"], request["status"]) == ("GET", "/api/tasks", 401)
