"""GET /api/tasks/events against real server processes: a change reaches a stream held by
another process (PostgreSQL LISTEN/NOTIFY) or by the same one (SQLite), resume by
Last-Event-ID, isolation, heartbeats, token expiry, and stream limits."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.config import Settings
from app.db.feed import ChangeFeed
from app.sync.tokens import token_of
from tests.support.helpers import SECRET, assert_error, bearer, free_port, token_for

BACKEND = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE_SECONDS = 30
GUARD_SECONDS = 20  # only so that a broken stream fails the test instead of hanging it
SERVER_SETTINGS = {
    "SSE_HEARTBEAT_SECONDS": "0.3",
    "JWT_LEEWAY_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
}


class Server:
    """`taskapi serve` in a process of its own."""

    def __init__(self, cwd: Path, database_url: str, settings: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        settings_names = {name.upper() for name in Settings.model_fields}
        env = {k: v for k, v in os.environ.items() if k.upper() not in settings_names}
        env.update(
            PYTHONPATH=str(BACKEND),
            ENVIRONMENT="production",
            BETTER_AUTH_SECRET=SECRET,
            DATABASE_URL=database_url,
            AUTO_MIGRATE="false",
            **settings,
        )
        self.log = cwd / f"serve-{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # open streams can hold a graceful shutdown
            self.process.kill()
            self.process.wait(timeout=10)


def start_servers(cwd: Path, database_url: str, count: int, **settings: str) -> list[Server]:
    servers = [Server(cwd, database_url, {**SERVER_SETTINGS, **settings}) for _ in range(count)]
    for server in servers:
        server.wait_until_healthy()
    return servers


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, int]:
    """A database and how many processes serve it: two on PostgreSQL, one on SQLite (its
    change feed is in-process, by design)."""
    cwd = tmp_path_factory.mktemp("events")
    if request.param == "sqlite":
        path = cwd / "taskapi.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return cwd, f"sqlite+aiosqlite:///{path}", 1
    url: str = request.getfixturevalue("postgres_url")
    return cwd, url, 2


@pytest.fixture(scope="module")
def servers(served_database: tuple[Path, str, int]) -> Iterator[list[Server]]:
    cwd, url, count = served_database
    started = start_servers(cwd, url, count)
    try:
        yield started
    finally:
        for server in started:
            server.stop()


@dataclass
class Event:
    name: str | None
    id: str | None
    data: Any
    comment: str | None = None


class EventReader:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, *, heartbeats: bool = False) -> Event:
        """The next event (heartbeat comments skipped unless asked for)."""
        async with asyncio.timeout(GUARD_SECONDS):
            while True:
                event = await self._read_one()
                if heartbeats or event.comment is None:
                    return event

    async def _read_one(self) -> Event:
        fields: dict[str, str] = {}
        comment = None
        async for line in self._lines:
            if line == "":
                if fields or comment is not None:
                    data = orjson.loads(fields["data"]) if "data" in fields else None
                    return Event(fields.get("event"), fields.get("id"), data, comment)
                continue
            if line.startswith(":"):
                comment = line[1:].strip()
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise AssertionError("the stream ended")

    async def ended(self) -> bool:
        async with asyncio.timeout(GUARD_SECONDS):
            async for _ in self._lines:
                pass
        return True


@asynccontextmanager
async def stream(
    server: Server, token: str, headers: dict[str, str] | None = None, query: str = ""
) -> AsyncIterator[EventReader]:
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=GUARD_SECONDS) as client,
        client.stream(
            "GET", f"/api/tasks/events{query}", headers={**bearer(token), **(headers or {})}
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)


def new_user() -> str:
    return f"user{uuid.uuid4().hex}"


async def call(
    server: Server, method: str, path: str, user: str, body: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=GUARD_SECONDS) as client:
        return await client.request(method, path, json=body, headers=bearer(token_for(user)))


async def test_a_change_through_one_process_reaches_a_stream_held_by_another(
    servers: list[Server],
) -> None:
    user = new_user()
    async with stream(servers[0], token_for(user)) as events:
        ready = await events.next()
        created = (await call(servers[-1], "POST", "/api/tasks", user, {"title": "x"})).json()
        updated = await call(
            servers[-1], "PUT", f"/api/tasks/{created['id']}", user, {"title": "y"}
        )
        await call(servers[-1], "DELETE", f"/api/tasks/{created['id']}", user)

        received = [await events.next() for _ in range(3)]

    assert ready.name == "ready"
    assert ready.id == ready.data["next_token"]
    assert [(event.name, event.data) for event in received] == [
        ("created", created),
        ("updated", updated.json()),
        ("deleted", {"id": created["id"]}),
    ]
    assert len({event.id for event in [ready, *received]}) == 4


async def test_last_event_id_resumes_with_exactly_what_was_missed(servers: list[Server]) -> None:
    user = new_user()
    kept = (await call(servers[0], "POST", "/api/tasks", user, {"title": "kept"})).json()
    gone = (await call(servers[0], "POST", "/api/tasks", user, {"title": "gone"})).json()
    async with stream(servers[0], token_for(user)) as events:
        last_id = (await events.next()).id
    changed = await call(servers[-1], "PUT", f"/api/tasks/{kept['id']}", user, {"title": "new"})
    await call(servers[-1], "DELETE", f"/api/tasks/{gone['id']}", user)
    added = (await call(servers[-1], "POST", "/api/tasks", user, {"title": "added"})).json()

    async with stream(servers[0], token_for(user), {"Last-Event-ID": str(last_id)}) as events:
        ready = await events.next()
        missed = [await events.next() for _ in range(3)]

    assert ready.id == last_id
    assert [(event.name, event.data) for event in missed] == [
        ("updated", changed.json()),
        ("deleted", {"id": gone["id"]}),
        ("created", added),
    ]


async def test_a_stream_never_carries_another_users_change(servers: list[Server]) -> None:
    alice, bob = new_user(), new_user()
    async with stream(servers[0], token_for(alice)) as events:
        await events.next()
        await call(servers[-1], "POST", "/api/tasks", bob, {"title": "bob's"})
        alices = (await call(servers[-1], "POST", "/api/tasks", alice, {"title": "a"})).json()

        # Bob's change committed first: had it leaked, it would come first.
        event = await events.next()

    assert (event.name, event.data) == ("created", alices)


async def test_a_stream_says_no_store_once(servers: list[Server]) -> None:
    async with (
        httpx.AsyncClient(base_url=servers[0].base_url, timeout=GUARD_SECONDS) as client,
        client.stream(
            "GET", "/api/tasks/events", headers=bearer(token_for(new_user()))
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers.get_list("cache-control") == ["no-store"]
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_an_idle_stream_gets_heartbeats(servers: list[Server]) -> None:
    async with stream(servers[0], token_for(new_user())) as events:
        await events.next()
        heartbeat = await events.next(heartbeats=True)

    assert (heartbeat.name, heartbeat.comment) == (None, "heartbeat")


async def test_an_expiring_token_ends_the_stream_with_a_close_event(
    servers: list[Server],
) -> None:
    token = token_for(new_user(), expires_in=timedelta(seconds=2))
    async with stream(servers[0], token) as events:
        await events.next()
        close = await events.next()

        assert (close.name, close.data["error_code"]) == ("close", "TOKEN_EXPIRED")
        assert await events.ended()


@pytest.mark.parametrize(
    ("seq", "status", "code"),
    [(None, 400, "INVALID_SYNC_TOKEN"), (999999, 410, "SYNC_TOKEN_EXPIRED")],
)
async def test_a_bad_or_unservable_last_event_id_is_refused_before_streaming(
    servers: list[Server], seq: int | None, status: int, code: str
) -> None:
    user = new_user()
    last_event_id = "garbage" if seq is None else token_of(seq, user)
    headers = {**bearer(token_for(user)), "Last-Event-ID": last_event_id}
    async with httpx.AsyncClient(base_url=servers[0].base_url) as client:
        response = await client.get("/api/tasks/events", headers=headers)

    assert_error(response, status, code)


async def test_a_stream_needs_a_bearer_token(servers: list[Server]) -> None:
    async with httpx.AsyncClient(base_url=servers[0].base_url) as client:
        response = await client.get("/api/tasks/events")

    assert_error(response, 401, "NOT_AUTHENTICATED")


async def open_until_accepted(server: Server, token: str) -> None:
    """Retries while the server has not yet noticed a closed stream (no timing asserted)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=GUARD_SECONDS) as client:
        for _ in range(200):
            async with client.stream("GET", "/api/tasks/events", headers=bearer(token)) as response:
                if response.status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError("the closed stream's slot was never given back")


async def test_stream_limits_per_user_and_in_total(
    served_database: tuple[Path, str, int],
) -> None:
    cwd, url, _ = served_database
    (server,) = start_servers(cwd, url, 1, SSE_MAX_STREAMS_PER_USER="2", SSE_MAX_STREAMS="3")
    alice, bob, carol = (token_for(new_user()) for _ in range(3))
    try:
        async with (
            stream(server, alice) as first,
            stream(server, alice),
            httpx.AsyncClient(base_url=server.base_url) as client,
        ):
            await first.next()
            third = await client.get("/api/tasks/events", headers=bearer(alice))
            assert_error(third, 429, "TOO_MANY_STREAMS")
            assert third.headers["retry-after"] == "5"
            async with stream(server, bob):
                full = await client.get("/api/tasks/events", headers=bearer(carol))
                assert_error(full, 429, "STREAM_CAPACITY_REACHED")
        await open_until_accepted(server, alice)
    finally:
        server.stop()


async def test_many_changes_wake_a_busy_stream_once() -> None:
    """Changes are not queued per stream: any number of them leaves one pending wake-up."""
    feed = ChangeFeed(max_per_user=1, max_total=1)
    subscription = feed.subscribe("alice")

    for _ in range(10_000):
        feed.changed("alice")

    assert await subscription.wait(0) is True
    assert await subscription.wait(0) is False
    subscription.close()
    assert feed.open_streams() == 0


async def open_raw_stream(server: Server, token: str) -> tuple[asyncio.StreamReader, Any]:
    """A stream on a bare socket (1,000 of them cost the test little): past its `ready` event."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET /api/tasks/events HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    async with asyncio.timeout(GUARD_SECONDS * 3):
        received = await reader.readuntil(b"event: ready\n")
    assert received.startswith(b"HTTP/1.1 200 "), received[:200]
    return reader, writer


async def test_a_thousand_open_streams_leave_room_for_ordinary_requests(
    served_database: tuple[Path, str, int],
) -> None:
    """The default limits, 200 users x 5 streams: requests and writes are still served, and
    the stream limits answer their own 429s (before: 503 SERVER_BUSY for everything)."""
    cwd, url, _ = served_database
    (server,) = start_servers(cwd, url, 1, SSE_HEARTBEAT_SECONDS="60")
    users = [new_user() for _ in range(200)]
    tokens = {user: token_for(user) for user in users}
    writers = []
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=GUARD_SECONDS) as early:
            assert (await early.get("/health")).status_code == 200  # a keep-alive connection
            for batch in range(0, len(users), 50):
                opened = await asyncio.gather(
                    *(
                        open_raw_stream(server, tokens[user])
                        for user in users[batch : batch + 50]
                        for _ in range(5)
                    )
                )
                writers += [writer for _, writer in opened]
            assert len(writers) == 1000

            created = await early.post(
                "/api/tasks", json={"title": "still served"}, headers=bearer(tokens[users[0]])
            )
            assert created.status_code == 201, created.text
            listed = await call(server, "GET", "/api/tasks", users[0])
            assert [task["title"] for task in listed.json()] == ["still served"]

            sixth = await early.get("/api/tasks/events", headers=bearer(tokens[users[1]]))
            assert_error(sixth, 429, "TOO_MANY_STREAMS")
            newcomer = await early.get("/api/tasks/events", headers=bearer(token_for(new_user())))
            assert_error(newcomer, 429, "STREAM_CAPACITY_REACHED")
    finally:
        for writer in writers:
            writer.close()
        server.stop()


async def test_sigterm_ends_open_streams_with_a_close_event_and_the_server_exits(
    served_database: tuple[Path, str, int],
) -> None:
    cwd, url, _ = served_database
    (server,) = start_servers(cwd, url, 1, SSE_HEARTBEAT_SECONDS="60")
    try:
        async with stream(server, token_for(new_user())) as events:
            ready = await events.next()
            server.process.terminate()

            closed = await events.next()
            assert (closed.name, closed.data["error_code"]) == ("close", "SERVER_RESTARTING")
            assert await events.ended()
        # Before: the server waited for the client to go away, so this timed out. (uvicorn
        # re-raises the SIGTERM once it has shut down cleanly.)
        assert server.process.wait(timeout=GUARD_SECONDS) in (0, -signal.SIGTERM)
        assert ready.id is not None
    finally:
        server.stop()
