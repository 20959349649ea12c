"""What the connection limits do to a live server: figures for README "How the limits fit
together", measured against `taskapi serve` (production mode, SQLite) in a subprocess.

    python -m bench.limits [--scenario streams|open-files|slow-readers] [--backend DIR]

--backend runs the server from another checkout's backend/ (e.g. the code before a change),
with this venv. Every run stays on 127.0.0.1 and ends by itself. Rate limits are off, so only
the connection limits decide. Figures are counts and statuses: the machine may be noisy.

Scenarios:
  streams       200 users x 5 event streams (1,000) open: ordinary requests served meanwhile,
                a keep-alive connection opened before them, a 6th stream for one user, a
                stream for a 201st user, and the server's RSS before and after the streams
  open-files    under `ulimit -n 256` (soft and hard, as `prlimit --nofile=256`): the
                MAX_CONNECTIONS the server says it uses, and 20 keep-alive clients' statuses
  slow-readers  MAX_CONNECTIONS=20, 20 sockets (SO_RCVBUF 4096) that never read: first each
                asks for GET /api/tasks?limit=500 (500 of the largest tasks), then, on a fresh
                server, each pipelines 4 requests for the Swagger UI bundle, no token; /health
                (resp. /health/live) status, RSS and open descriptors at each --checks time
"""

import argparse
import asyncio
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from app.auth.tokens import mint_token
from tests.support.helpers import SECRET, environment_without_settings, free_port

THIS_BACKEND = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60
ANSWER_SECONDS = 10  # any single answer the bench waits for
BUNDLE = b"GET /docs/assets/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n"


def user_id(n: int) -> str:
    return f"benchUser{n:023d}"  # 32 alphanumerics, as Better Auth ids are


def bearer(user: str) -> str:
    return f"Bearer {mint_token(SECRET, user)}"


class Served:
    """`taskapi serve` from `backend`, on a fresh SQLite database, with these settings."""

    def __init__(
        self, backend: Path, settings: dict[str, str], open_files: int | None = None
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-limits-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = environment_without_settings(
            PYTHONPATH=str(backend),  # that checkout's app, not this venv's
            ENVIRONMENT="production",
            BETTER_AUTH_SECRET=SECRET,
            DATABASE_URL=f"sqlite+aiosqlite:///{self.workdir / 'taskapi.db'}",
            AUTO_MIGRATE="true",
            RATE_LIMIT="off",
            RATE_LIMIT_ANONYMOUS="off",
            LOG_LEVEL="WARNING",
            **settings,
        )
        limit: Callable[[], None] | None = None
        if open_files is not None:
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))  # noqa: E731
        self.log_path = self.workdir / "serve.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                cwd=backend,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=limit,
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                httpx.get(f"{self.base_url}/health", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"taskapi serve did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text()

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) if found else 0

    def open_descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


# --- raw HTTP: the bytes and the outcome, whatever the server does ---------------------------


async def status_of(reader: asyncio.StreamReader) -> str:
    """The status code of the next response, or how the connection ended instead."""
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            line = await reader.readline()
    except TimeoutError:
        return "no answer"
    except ConnectionResetError:
        return "reset"
    return line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1 ") else "closed"


async def one_request(port: int, path: str, authorization: str | None = None) -> str:
    """A new connection, one request, read to the end: its status or how it failed."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as error:
        return type(error).__name__
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if authorization:
        head += f"Authorization: {authorization}\r\n"
    writer.write(head.encode() + b"\r\n")
    status = await status_of(reader)
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            await reader.read()
    except (TimeoutError, OSError):
        pass
    writer.close()
    return status


async def open_stream(port: int, authorization: str) -> tuple[str, asyncio.StreamWriter]:
    """A stream's status, its `ready` event read when it is a 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"GET /api/tasks/events HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n"
    writer.write(head.encode() + b"\r\n")
    status = await status_of(reader)
    if status == "200":
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                await reader.readuntil(b"event: ready\n")
        except (TimeoutError, asyncio.IncompleteReadError, OSError):
            status = "200 without ready"
    return status, writer


# --- scenarios ----------------------------------------------------------------------------


async def streams(backend: Path, args: argparse.Namespace) -> None:
    # Keep-alive 120 s: only the connection cap, not the idle timeout, can close the early one.
    server = Served(backend, {"SSE_HEARTBEAT_SECONDS": "60", "KEEP_ALIVE_TIMEOUT_SECONDS": "120"})
    writers: list[asyncio.StreamWriter] = []
    try:
        users = [user_id(n) for n in range(args.users)]
        tokens = {user: bearer(user) for user in users}
        early_reader, early = await asyncio.open_connection("127.0.0.1", server.port)
        early.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        early_first = await status_of(early_reader)
        await early_reader.readuntil(b"}")  # the rest of its small JSON body
        await one_request(server.port, "/api/tasks", tokens[users[0]])  # warm up the database
        rss_before = server.rss_kb()

        opened: Counter[str] = Counter()
        for batch in range(0, len(users), 50):
            results = await asyncio.gather(
                *(
                    open_stream(server.port, tokens[u])
                    for u in users[batch : batch + 50]
                    for _ in range(5)
                )
            )
            opened.update(status for status, _ in results)
            writers += [writer for _, writer in results]
        rss_after = server.rss_kb()

        early.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        early_again = await status_of(early_reader)
        traffic = await ordinary_traffic(server.port, tokens, args.clients, args.seconds)
        sixth, sixth_writer = await open_stream(server.port, tokens[users[1]])
        newcomer, newcomer_writer = await open_stream(server.port, bearer(user_id(args.users)))
        writers += [sixth_writer, newcomer_writer]

        streams_ok = opened["200"]
        print(f"streams: {len(users)} users x 5 opened: {dict(sorted(opened.items()))}")
        print(
            f"  ordinary requests ({args.clients} clients, new connection each, "
            f"{args.seconds:.0f} s): {dict(sorted(traffic.items()))}"
        )
        print(
            f"  keep-alive connection opened first: {early_first}, after the streams: {early_again}"
        )
        print(f"  6th stream for one user: {sixth}; a stream for user {len(users) + 1}: {newcomer}")
        per_stream = (rss_after - rss_before) / streams_ok if streams_ok else 0
        print(
            f"  server RSS {rss_before / 1024:.1f} MB before, {rss_after / 1024:.1f} MB with the "
            f"streams: {per_stream:.0f} KB per stream"
        )
    finally:
        for writer in writers:
            writer.close()
        server.stop()


async def ordinary_traffic(
    port: int, tokens: dict[str, str], clients: int, seconds: float
) -> Counter[str]:
    until = time.monotonic() + seconds
    statuses: Counter[str] = Counter()
    authorizations = list(tokens.values())

    async def client(n: int) -> None:
        while time.monotonic() < until:
            statuses[
                await one_request(port, "/api/tasks", authorizations[n % len(authorizations)])
            ] += 1
            n += clients

    await asyncio.gather(*(client(n) for n in range(clients)))
    return statuses


async def open_files(backend: Path, args: argparse.Namespace) -> None:
    server = Served(backend, {}, open_files=256)
    try:
        said = re.search(r"[^\n]*MAX_CONNECTIONS lowered[^\n]*", server.log())
        print("open-files: ulimit -n 256")
        print(f"  the server says: {said.group(0) if said else '(nothing about MAX_CONNECTIONS)'}")
        until = time.monotonic() + args.seconds
        statuses: Counter[str] = Counter()

        async def client() -> None:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=ANSWER_SECONDS) as http:
                while time.monotonic() < until:
                    try:
                        statuses[str((await http.get("/health")).status_code)] += 1
                    except httpx.HTTPError as error:
                        statuses[type(error).__name__] += 1

        await asyncio.gather(*(client() for _ in range(20)))
        print(f"  20 keep-alive clients for {args.seconds:.0f} s: {dict(sorted(statuses.items()))}")
    finally:
        server.stop()


def never_reading_socket(port: int, requests: bytes) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: stays small
    sock.connect(("127.0.0.1", port))
    sock.sendall(requests)
    return sock


def largest_task(n: int) -> dict[str, str]:
    """The most a task may hold (200-character title, 2000-character description): an
    attacker seeds its own account so that each listing is as large as it can be (~1.1 MB)."""
    return {"title": f"task {n} ".ljust(200, "t"), "description": "d" * 2000}


async def seed_tasks(server: Served, authorization: str, count: int) -> None:
    headers = {"Authorization": authorization}
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as http:
        for start in range(0, count, 50):
            await asyncio.gather(
                *(
                    http.post("/api/tasks", json=largest_task(n), headers=headers)
                    for n in range(start, min(count, start + 50))
                )
            )
    await asyncio.sleep(1)  # the seeding connections closed on both ends


async def slow_readers(backend: Path, args: argparse.Namespace) -> None:
    owner = bearer(user_id(0))
    listing = (
        f"GET /api/tasks?limit=500 HTTP/1.1\r\nHost: x\r\nAuthorization: {owner}\r\n\r\n".encode()
    )
    variants = [
        ("GET /api/tasks?limit=500 (500 largest tasks), token", listing, "/health"),
        ("4 pipelined GET /docs/assets/swagger-ui-bundle.js, no token", BUNDLE * 4, "/health/live"),
    ]
    for title, requests, probe in variants:
        server = Served(backend, {"MAX_CONNECTIONS": "20"})
        held: list[socket.socket] = []
        try:
            if probe == "/health":
                await seed_tasks(server, owner, 500)
            rss_before, files_before = server.rss_kb(), server.open_descriptors()
            started = time.monotonic()
            held = [never_reading_socket(server.port, requests) for _ in range(20)]
            print(f"slow-readers: MAX_CONNECTIONS=20, 20 never-reading sockets: {title}")
            print(f"  before: RSS {rss_before / 1024:.1f} MB, {files_before} open descriptors")
            for at in args.checks:
                await asyncio.sleep(max(0.0, started + at - time.monotonic()))
                status = await one_request(server.port, probe)
                grown = (server.rss_kb() - rss_before) / 1024
                print(
                    f"  +{at:.0f} s: {probe} {status}, RSS +{grown:.1f} MB, "
                    f"{server.open_descriptors()} open descriptors"
                )
        finally:
            for sock in held:
                sock.close()
            server.stop()


SCENARIOS = {"streams": streams, "open-files": open_files, "slow-readers": slow_readers}


def describe(backend: Path) -> str:
    commit = subprocess.run(
        ["git", "-C", str(backend), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{backend} ({commit[:72]})"


async def main(args: argparse.Namespace) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the bench holds 1,000+ sockets
    backend = args.backend.resolve()
    print(f"server code: {describe(backend)}")
    for name in args.scenario or list(SCENARIOS):
        await SCENARIOS[name](backend, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=list(SCENARIOS), action="append", help="default: all")
    parser.add_argument("--backend", type=Path, default=THIS_BACKEND, help="a backend/ to serve")
    parser.add_argument("--users", type=int, default=200, help="streams: 5 streams each")
    parser.add_argument("--clients", type=int, default=4, help="streams: ordinary clients")
    parser.add_argument("--seconds", type=float, default=5, help="streams, open-files: traffic")
    parser.add_argument(
        "--checks",
        type=lambda text: [float(part) for part in text.split(",")],
        default=[10.0, 40.0],
        help="slow-readers: seconds after the sockets opened to probe (default 10,40)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
