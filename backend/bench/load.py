"""Load benchmark: a real uvicorn server, a real database, many concurrent users.

Prints latency percentiles and throughput per operation; asserts nothing (machines are noisy).
Measures create, list, toggle, get and delete with 100 concurrent users, and reading all of one
user's 1000 tasks page by page.

    scripts/bench                         # SQLite
    scripts/bench --database postgres     # a scratch database on the local PostgreSQL
    scripts/bench --auth EdDSA            # Better Auth-style tokens verified through a JWKS
"""

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.tokens import mint_token
from tests.support.jwks_server import BASE_URL, JwksServer, better_auth_token, generate_key

SECRET = "benchmark-secret-0123456789abcdef0123456789"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def scratch_postgres() -> str:
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.exec_driver_sql('DROP DATABASE IF EXISTS "taskapi_bench" WITH (FORCE)')
        await connection.exec_driver_sql('CREATE DATABASE "taskapi_bench"')
    await engine.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/taskapi_bench"


TokenFor = Callable[[str], str]


@contextmanager
def token_source(algorithm: str) -> Iterator[tuple[dict[str, str], TokenFor]]:
    """The server's auth settings and a token minter: the shared secret for HS256, else a
    JWKS served from this process with a fresh key, as Better Auth's jwt plugin does."""
    if algorithm == "HS256":
        yield {"BETTER_AUTH_SECRET": SECRET}, lambda user: mint_token(SECRET, user)
        return
    key = generate_key(algorithm)
    jwks = JwksServer([key.jwk()], poll_interval=1).start()
    try:
        env = {"AUTH_JWKS_URL": jwks.url, "AUTH_ISSUER": BASE_URL, "AUTH_AUDIENCE": BASE_URL}
        yield env, lambda user: better_auth_token(key, user)
    finally:
        jwks.stop()


def start_server(
    database_url: str, port: int, workers: int, auth_env: dict[str, str]
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "AUTO_MIGRATE": "true",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        **auth_env,
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    return subprocess.Popen(command + ["--workers", str(workers)], env=env)


async def wait_until_up(client: httpx.AsyncClient) -> None:
    for _ in range(100):
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


class Timings:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}

    async def measure(self, name: str, request: Awaitable[httpx.Response]) -> httpx.Response:
        started = time.perf_counter()
        response = await request
        elapsed = time.perf_counter() - started
        self.samples.setdefault(name, []).append(elapsed)
        if response.status_code >= 400:
            self.errors[name] = self.errors.get(name, 0) + 1
        return response

    async def measure_all_pages(
        self, name: str, client: httpx.AsyncClient, url: str, headers: dict[str, str], expected: int
    ) -> None:
        """Follow `Link: rel="next"` until the last page, as a client fetching everything."""
        started = time.perf_counter()
        count = 0
        next_url: str | None = url
        while next_url:
            response = await client.get(next_url, headers=headers)
            response.raise_for_status()
            count += len(response.json())
            next_url = response.links.get("next", {}).get("url")
        self.samples.setdefault(name, []).append(time.perf_counter() - started)
        if count != expected:
            self.errors[name] = self.errors.get(name, 0) + 1

    def report(self, wall: float) -> None:
        print(
            f"{'operation':<22}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'max ms':>9}{'errors':>8}"
        )
        total = 0
        for name, samples in self.samples.items():
            cuts = (
                statistics.quantiles(samples, n=100, method="inclusive")
                if len(samples) > 1
                else samples * 99
            )
            total += len(samples)
            print(
                f"{name:<22}{len(samples):>7}{cuts[49] * 1000:>9.1f}{cuts[94] * 1000:>9.1f}"
                f"{cuts[98] * 1000:>9.1f}{max(samples) * 1000:>9.1f}"
                f"{self.errors.get(name, 0):>8}"
            )
        print(f"{total} requests in {wall:.1f} s: {total / wall:.0f} requests/s")


async def seed(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> None:
    semaphore = asyncio.Semaphore(20)

    async def one(index: int) -> None:
        async with semaphore:
            body = {"title": f"seeded task {index}", "description": "x" * 100}
            response = await client.post("/api/tasks", json=body, headers=headers)
            response.raise_for_status()

    await asyncio.gather(*(one(index) for index in range(count)))


async def user_session(
    client: httpx.AsyncClient, token: str, rounds: int, timings: Timings
) -> None:
    """One user: create a task, list, toggle it, read it, sometimes delete it."""
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(rounds):
        created = await timings.measure(
            "create", client.post("/api/tasks", json={"title": "bench"}, headers=headers)
        )
        url = f"/api/tasks/{created.json()['id']}"
        await timings.measure("list (own)", client.get("/api/tasks", headers=headers))
        await timings.measure(
            "toggle", client.put(url, json={"is_completed": True}, headers=headers)
        )
        await timings.measure("get", client.get(url, headers=headers))
        if random.random() < 0.3:
            await timings.measure("delete", client.delete(url, headers=headers))


async def run(args: argparse.Namespace) -> None:
    with token_source(args.auth) as (auth_env, token_for):
        await run_with(args, auth_env, token_for)


async def run_with(args: argparse.Namespace, auth_env: dict[str, str], token_for: TokenFor) -> None:
    if args.database == "postgres":
        database_url = await scratch_postgres()
    else:
        database_url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    port = free_port()
    server = start_server(database_url, port, args.workers, auth_env)
    limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
        ) as client:
            await wait_until_up(client)
            heavy = {"Authorization": f"Bearer {token_for('heavy-user')}"}
            await seed(client, heavy, args.seed)
            timings = Timings()
            for _ in range(5):
                await timings.measure_all_pages(
                    f"list all {args.seed} (pages)",
                    client,
                    "/api/tasks?limit=500",
                    heavy,
                    args.seed,
                )
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    user_session(client, token_for(f"user-{n}"), args.rounds, timings)
                    for n in range(args.users)
                )
            )
            wall = time.perf_counter() - started
            print(
                f"\n{args.database}, {args.auth} tokens, {args.workers} worker(s), "
                f"{args.users} concurrent users x "
                f"{args.rounds} rounds, {args.seed} tasks seeded for one user"
            )
            timings.report(wall)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--auth", choices=["HS256", "EdDSA", "ES256", "ES512", "RS256", "PS256"], default="HS256"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
