"""Everything tests share: settings, tokens, the running app, requests, assertions, and direct
database access (no owner filter), so tests can check what really was (or was not) written.

Tests reach the app's internals only through `sessionmaker_of` and `token_verifier_of`.
"""

import base64
import hmac
import json
import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.tokens import mint_token
from app.auth.verifier import TokenVerifier
from app.config import Settings
from app.http.error_handlers import describe_validation_errors
from app.kit.keys import due_keys, fold
from app.main import create_app
from app.models import Task, metadata
from app.state import app_state
from tests.support.clock import CLOCK
from tests.support.clock import now as clock_now

SECRET = "test-secret-that-is-long-enough-0123456789abcdef"
ALICE = "aliceAliceAliceAliceAliceAlice01"  # Better Auth ids: 32 alphanumerics
BOB = "bobBobBobBobBobBobBobBobBobBob02"
JSON = {"Content-Type": "application/json"}

# The exact bodies of the three 401s: clients may show them, so they never change.
AUTH_DETAILS = {
    "NOT_AUTHENTICATED": "Missing bearer token: send 'Authorization: Bearer <token>'",
    "INVALID_TOKEN": "Invalid bearer token",
    "TOKEN_EXPIRED": "Bearer token has expired",
}

Headers = dict[str, str] | list[tuple[str, str]]


# --- settings and the running app -----------------------------------------------------------


def make_settings(**overrides: Any) -> Settings:
    """Settings from arguments only: no .env file, production rules on."""
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": "sqlite+aiosqlite:///:memory:",
        "better_auth_secret": SECRET,
        "auto_migrate": False,
        "jobs_in_process": False,  # a test that needs the job worker turns it on
        **overrides,
    }
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app started (its lifespan run) with these settings, and a client calling it."""
    app = create_app(settings, clock=CLOCK)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


def sessionmaker_of(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    """The running app's sessionmaker: the one place tests reach its database."""
    return app_state(app).database.sessionmaker


def token_verifier_of(app: FastAPI) -> TokenVerifier:
    """The running app's token verifier: the one place tests reach it."""
    return app_state(app).token_verifier


# --- tokens -------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64url(json.dumps(value).encode())


def hand_signed(
    header: str, payload: str, key: bytes = SECRET.encode(), digest: str = "sha256"
) -> str:
    """Raw segments signed with HMAC, for tokens PyJWT refuses to build (an unusual header, or
    a public key as the secret)."""
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{b64url(hmac.new(key, signing_input.encode(), digest).digest())}"


def token_for(user_id: str, **kwargs: Any) -> str:
    return mint_token(SECRET, user_id, **kwargs)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth(user_id: str, **kwargs: Any) -> dict[str, str]:
    """The headers of a request by `user_id`, with a valid shared-secret token."""
    return bearer(token_for(user_id, **kwargs))


# --- the database, without the owner filter -----------------------------------------------


async def make_task(app: FastAPI, user_id: str, **fields: Any) -> Task:
    now = fields.pop("created_at", clock_now())
    title = fields.pop("title", "a task")
    # The columns the app derives on every write (app.kit.keys), derived the same way.
    due_key, due_key_desc = due_keys(fields.get("due_date"), fields.get("due_at"))
    task = Task(
        id=fields.pop("id", uuid.uuid4()),
        user_id=user_id,
        title=title,
        created_at=now,
        updated_at=fields.pop("updated_at", now),
        title_key=fold(title),
        description_key=fold(fields.get("description") or ""),
        due_key=due_key,
        due_key_desc=due_key_desc,
        **fields,
    )
    async with sessionmaker_of(app)() as session:
        session.add(task)
        await session.commit()
    return task


async def delete_all_tasks(app: FastAPI) -> None:
    """The PostgreSQL test database is shared by the whole run: tests start from empty tables
    (tasks, and the sync tables beside them). Tasks go first: on SQLite their delete trigger
    writes `deleted` events, which must go too, or a counter started again from 0 would meet
    them."""
    tasks = metadata.tables["tasks"]
    async with sessionmaker_of(app)() as session:
        await session.execute(delete(tasks))
        for table in reversed(metadata.sorted_tables):
            if table is not tasks:
                await session.execute(delete(table))
        await session.commit()


async def all_tasks(app: FastAPI) -> list[Task]:
    """Every row in the table, whoever owns it, oldest first."""
    async with sessionmaker_of(app)() as session:
        rows = await session.scalars(select(Task).order_by(Task.created_at, Task.id))  # type: ignore[arg-type]
        return list(rows.all())


async def all_rows(app: FastAPI) -> list[dict[str, Any]]:
    """Every row as a dict: compare before and after to prove nothing was written."""
    return [task.model_dump() for task in await all_tasks(app)]


async def stored_key_columns(app: FastAPI, *columns: Any) -> list[tuple[str, str]]:
    """Two columns of every stored `Idempotency-Key`, sorted."""
    async with sessionmaker_of(app)() as session:
        rows = await session.execute(select(*columns))
        return sorted((first, second) for first, second in rows)


async def stored_task(app: FastAPI, task_id: uuid.UUID | str) -> Task | None:
    async with sessionmaker_of(app)() as session:
        task: Task | None = await session.get(Task, uuid.UUID(str(task_id)))
        return task


async def row_of(app: FastAPI, task_id: uuid.UUID | str) -> dict[str, Any]:
    """The stored row of a task that must exist."""
    task = await stored_task(app, task_id)
    assert task is not None, f"task {task_id} is not in the database"
    return task.model_dump()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seconds_ago(seconds: float) -> datetime:
    return clock_now() - timedelta(seconds=seconds)


# --- requests -----------------------------------------------------------------------------


async def post_task(
    client: httpx.AsyncClient, headers: Headers, title: str = "a task"
) -> httpx.Response:
    """A valid create, with whatever credentials `headers` carry."""
    return await client.post("/api/tasks", json={"title": title}, headers=headers)


async def create_task(client: httpx.AsyncClient, user: str = ALICE, **body: Any) -> dict[str, Any]:
    """Create through the API (201 asserted); the created task."""
    response = await client.post("/api/tasks", json={"title": "a task", **body}, headers=auth(user))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def put_raw(
    client: httpx.AsyncClient, user: str, task_id: uuid.UUID | str, content: bytes
) -> httpx.Response:
    """A PUT whose body is exactly these bytes, labelled as JSON."""
    return await client.put(
        f"/api/tasks/{task_id}", content=content, headers={**auth(user), **JSON}
    )


async def list_ids(client: httpx.AsyncClient, user: str, query: str = "") -> list[str]:
    """The ids the user's list answers (200 asserted), in order."""
    response = await client.get(f"/api/tasks{query}", headers=auth(user))
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()]


async def list_pages(client: httpx.AsyncClient, user: str, limit: int) -> list[list[str]]:
    """The ids on every page of the caller's list, following the Link header as a client would."""
    url: str | None = f"/api/tasks?limit={limit}"
    pages: list[list[str]] = []
    while url is not None:
        response = await client.get(url, headers=auth(user))
        assert response.status_code == 200, response.text
        pages.append([task["id"] for task in response.json()])
        url = response.links.get("next", {}).get("url")
    return pages


# --- assertions ---------------------------------------------------------------------------


def assert_error(
    response: httpx.Response,
    status: int,
    error_code: str,
    detail: str | None = None,
    *,
    mentions: tuple[str, ...] = (),
) -> None:
    """The error envelope, exactly: this status and code, and `detail` (when given) verbatim,
    or else a non-empty detail naming each of `mentions`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "error_code", "status_code"}, body
    assert (body["error_code"], body["status_code"]) == (error_code, status), body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if detail is not None:
        assert body["detail"] == detail, body["detail"]
    for mention in mentions:
        assert mention in body["detail"], body["detail"]


def assert_401(response: httpx.Response, error_code: str = "INVALID_TOKEN") -> None:
    """A 401 with its exact body and the `WWW-Authenticate: Bearer` challenge."""
    assert_error(response, 401, error_code, AUTH_DETAILS[error_code])
    assert response.headers["www-authenticate"] == "Bearer"


def validation_failure(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The (error_code, detail) the API answers for these pydantic errors: the one place tests
    call `describe_validation_errors`."""
    described = describe_validation_errors(list(errors))
    return described.error_code, described.detail


# Titles at the limit: lengths count characters after trimming, whatever their UTF-8 size.
LONGEST_TITLES = [
    pytest.param("a" * 200, id="200-ascii"),
    pytest.param("😀" * 200, id="200-emoji"),
    pytest.param("é" * 200, id="200-two-byte"),
    pytest.param("  " + "a" * 200 + "  ", id="200-after-trimming"),
]


def environment_without_settings(**settings: str) -> dict[str, str]:
    """This process's environment minus every taskapi setting, plus `settings`."""
    names = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.upper() not in names} | settings


STARTUP_DEADLINE_SECONDS = 15


def _limit_open_files(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


class DevServer:
    """`taskapi serve --dev` as a user runs it: a subprocess in `cwd`, logging to a file."""

    def __init__(
        self, cwd: Path, env: dict[str, str], *args: str, open_files: int | None = None
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.output = cwd / "serve.log"
        # The development secret and token in a folder of this test's, not the user's.
        self.state_home = cwd / "state"
        env = {"XDG_STATE_HOME": str(self.state_home), **env}
        with self.output.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "serve",
                    "--dev",
                    "--port",
                    str(self.port),
                    *args,
                ],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=None if open_files is None else lambda: _limit_open_files(open_files),
            )

    def wait_until_healthy(self) -> httpx.Response:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                return httpx.get(f"{self.base_url}/health", timeout=2)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"serve did not answer within the deadline:\n{self.log()}")
                time.sleep(0.2)

    def log(self) -> str:
        return self.output.read_text()

    def dev_token(self) -> str:
        """The token for alice that `serve --dev` wrote (the banner names the file)."""
        return (self.state_home / "taskapi" / "dev-token").read_text().strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
