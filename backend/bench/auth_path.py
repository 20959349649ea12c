"""The authentication + rate-limit path, the code every request runs: microseconds per request
through the whole ASGI app (every middleware, routing, the bearer dependency) with a token the
verifier already remembers, on a route that answers without the database (a task id that is
not a UUID: 404 after authentication). Rate limit on (in memory) and off.

    python -m bench.auth_path [--requests 20000] [--rounds 5]

Prints the best round of each (the least disturbed by other processes on the machine).
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from app.auth.tokens import mint_token
from app.main import create_app
from tests.support.helpers import SECRET, make_settings

PATH = "/api/tasks/not-a-uuid"


def _scope(token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"accept", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def per_request_microseconds(app: ASGIApp, token: str, requests: int) -> float:
    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(_scope(token), _receive, send)  # warm up: the token is verified and remembered
    started = time.perf_counter()
    for _ in range(requests):
        await app(_scope(token), _receive, send)
    elapsed = time.perf_counter() - started
    if set(statuses) != {404}:
        raise RuntimeError(f"unexpected statuses {set(statuses)}")
    return elapsed / requests * 1e6


async def best_of(rate_limit: str, requests: int, rounds: int) -> float:
    token = mint_token(SECRET, "alice")
    with tempfile.TemporaryDirectory() as directory:
        settings = make_settings(
            database_url=f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}",
            auto_migrate=True,
            rate_limit=rate_limit,
            rate_limit_anonymous=rate_limit,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            rounds_us = [
                await per_request_microseconds(app, token, requests) for _ in range(rounds)
            ]
    return min(rounds_us)


async def run(requests: int, rounds: int) -> None:
    print(f"{'rate limit':<22}{'us/request':>12}")
    for rate_limit in ("999999999/day", "off"):
        cost = await best_of(rate_limit, requests, rounds)
        print(f"{rate_limit:<22}{cost:>12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.requests, arguments.rounds))


if __name__ == "__main__":
    main()
