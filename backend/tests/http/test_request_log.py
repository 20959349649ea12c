"""Request ids on every response, and one JSON line per request (ACCESS_LOG), written even when
the client has hung up."""

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.http.request_log import JsonFormatter
from app.main import create_app
from app.state import app_state
from tests.conftest import StartApp
from tests.support.helpers import (
    ALICE,
    all_rows,
    assert_error,
    auth,
    create_task,
    delete_all_tasks,
    free_port,
    make_settings,
    stored_task,
    token_for,
)

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class JsonLines(logging.Handler):
    """taskapi's log as the server writes it: each record formatted by JsonFormatter when it is
    emitted (the request id comes from the request being served then)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["logger"] == logger]


@pytest.fixture
def log() -> Iterator[JsonLines]:
    handler = JsonLines()
    logger = logging.getLogger("taskapi")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_every_response_carries_a_fresh_request_id(client: httpx.AsyncClient) -> None:
    responses = [
        await client.get("/api/tasks", headers=auth(ALICE)),
        await client.get("/api/tasks"),  # 401
        await client.get("/no/such/path"),  # 404
        await client.get("/health"),
    ]

    ids = [response.headers["X-Request-ID"] for response in responses]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_plausible_client_request_id_is_kept(client: httpx.AsyncClient) -> None:
    sent = "5f1c6f0e-3b1a-4a8e-9d2c-7f7b2f0c9a11"

    response = await client.get("/api/tasks", headers={**auth(ALICE), "X-Request-ID": sent})

    assert response.headers["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent", ["x" * 129, "has spaces", "<script>", 'quote"d', "tab\there", "é-non-ascii"]
)
async def test_an_implausible_client_request_id_is_replaced(
    client: httpx.AsyncClient, sent: str
) -> None:
    response = await client.get(
        "/api/tasks",
        headers={
            b"Authorization": auth(ALICE)["Authorization"].encode(),
            b"X-Request-ID": sent.encode(),
        },
    )

    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


async def test_the_request_log_is_off_by_default(client: httpx.AsyncClient, log: JsonLines) -> None:
    await create_task(client)

    assert log.of("taskapi.request") == []


async def test_one_json_line_per_request_without_the_token(
    start_app: StartApp, log: JsonLines
) -> None:
    token = token_for(ALICE)
    async with start_app(access_log=True) as (app, client):
        created = await client.post(
            "/api/tasks",
            json={"title": "logged"},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
        )
        refused = await client.get("/api/tasks/not-a-uuid", headers=auth(ALICE))
        anonymous = await client.get("/api/tasks")
        rows = await all_rows(app)

    assert created.status_code == 201
    assert_error(refused, 404, "TASK_NOT_FOUND")
    assert_error(anonymous, 401, "NOT_AUTHENTICATED")
    lines = log.of("taskapi.request")
    for line in lines:
        assert line.pop("duration_ms") >= 0
        assert line.pop("time")
    assert lines[0] == {
        "level": "INFO",
        "logger": "taskapi.request",
        "message": "request",
        "request_id": "req-1",
        "method": "POST",
        "route": "/api/tasks",
        "status": 201,
        "user_id": ALICE,
        "client": "127.0.0.1",
    }
    assert (lines[1]["route"], lines[1]["status"], lines[1]["user_id"]) == (
        "/api/tasks/{task_id}",
        404,
        ALICE,
    )
    assert (lines[2]["status"], lines[2]["user_id"]) == (401, None)
    assert lines[1]["request_id"] == refused.headers["X-Request-ID"]
    assert token not in json.dumps(log.lines)
    assert [row["title"] for row in rows] == ["logged"]


async def test_other_log_lines_of_a_request_carry_its_id(
    client: httpx.AsyncClient, log: JsonLines
) -> None:
    await client.get("/api/tasks", headers={"Authorization": "Bearer x", "X-Request-ID": "r-9"})

    [line] = log.of("taskapi.auth")
    assert line["request_id"] == "r-9"
    assert line["level"] == "WARNING"


# --- a client that hangs up -----------------------------------------------------------------


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[uvicorn.Server]:
    """The app behind a real uvicorn server on a free port, in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def row_locked(database_url: str, task_id: str) -> AsyncIterator[None]:
    """Another client holds the task's row (PostgreSQL) or the write lock (SQLite) until the
    block ends: a DELETE waits for it."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            writer.execute("COMMIT")
            writer.close()
        return
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": task_id}
            )
            yield
    finally:
        await engine.dispose()


async def eventually(condition: Any, what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_a_delete_whose_client_hangs_up_is_executed_and_logged(
    database_url: str, log: JsonLines
) -> None:
    app = create_app(make_settings(database_url=database_url, access_log=True))
    async with served(app) as server:
        await delete_all_tasks(app)
        base = f"http://127.0.0.1:{server.config.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            task = await create_task(client)
        database = app_state(app).database

        async with row_locked(database_url, task["id"]):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.config.port)
            writer.write(
                f"DELETE /api/tasks/{task['id']} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token_for(ALICE)}\r\nX-Request-ID: gone-1\r\n\r\n".encode()
            )
            await writer.drain()
            await eventually(lambda: database.connections_in_use == 1, "the DELETE waits")
            writer.close()  # the client hangs up while its DELETE waits for the lock
            await writer.wait_closed()
            await eventually(lambda: not server.server_state.connections, "server saw it go")

        await eventually(
            lambda: any(line["request_id"] == "gone-1" for line in log.of("taskapi.request")),
            "a log line for the DELETE",
        )
        assert await stored_task(app, task["id"]) is None

    [line] = [line for line in log.of("taskapi.request") if line["request_id"] == "gone-1"]
    assert (line["method"], line["route"], line["status"], line["user_id"]) == (
        "DELETE",
        "/api/tasks/{task_id}",
        204,
        ALICE,
    )


async def test_a_bug_still_answers_the_envelope_with_a_request_id(log: JsonLines) -> None:
    app = create_app(make_settings(auto_migrate=True, access_log=True))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/boom", headers={"X-Request-ID": "bug-1"})

    assert_error(response, 500, "INTERNAL_ERROR")
    assert response.headers["X-Request-ID"] == "bug-1"
    [line] = log.of("taskapi.request")
    assert (line["request_id"], line["route"], line["status"]) == ("bug-1", "/boom", 500)
    [error] = log.of("taskapi.errors")
    assert error["request_id"] == "bug-1"
    assert "RuntimeError: a bug" in error["exception"]


async def test_two_authorization_headers_are_counted_and_logged_as_nobody(
    start_app: StartApp, log: JsonLines
) -> None:
    """Refused (401) before anyone is credited: Alice's quota and the log never see her."""
    two = [("Authorization", auth(ALICE)["Authorization"]), ("Authorization", "Bearer garbage")]
    async with start_app(rate_limit="5/minute", access_log=True) as (app, client):
        refused = await client.post("/api/tasks", json={"title": "two"}, headers=two)
        rows_after_refusal = await all_rows(app)
        alices_own = await client.get("/api/tasks", headers=auth(ALICE))

    assert_error(refused, 401, "INVALID_TOKEN")
    assert refused.headers["RateLimit-Policy"] == '"address";q=300;w=60'
    assert rows_after_refusal == []
    assert alices_own.headers["RateLimit"] == '"user";r=4'  # her first request
    lines = log.of("taskapi.request")
    assert [(line["status"], line["user_id"]) for line in lines] == [(401, None), (200, ALICE)]
