"""The authentication + rate-limit path, the code every request runs, with a token the
verifier already remembers. Two figures, rate limit on (in memory) and off:

- the whole request: microseconds through the ASGI app (every middleware, routing, the bearer
  dependency) on a route that answers without the database (a task id that is not a UUID: 404
  after authentication);
- the auth path alone: the rate limit's count (when on) plus the route's bearer dependency.

    python -m bench.auth_path [--requests 20000] [--rounds 5]

CPU time of this process (the machine is shared), best round of each.
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message

from app.auth.dependencies import current_user_id
from app.auth.tokens import mint_token
from app.http.middleware import count_request
from app.main import create_app
from app.state import app_state
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
    started = time.process_time()
    for _ in range(requests):
        await app(_scope(token), _receive, send)
    elapsed = time.process_time() - started
    if set(statuses) != {404}:
        raise RuntimeError(f"unexpected statuses {set(statuses)}")
    return elapsed / requests * 1e6


async def auth_microseconds(app: Any, token: str, requests: int) -> float:
    state = app_state(app)
    limiter, verifier = state.rate_limiter, state.token_verifier
    started = time.process_time()
    for _ in range(requests):
        scope = {**_scope(token), "app": app}
        if limiter is not None:
            await count_request(limiter, verifier, scope)
        await current_user_id(Request(scope))
    return (time.process_time() - started) / requests * 1e6


async def best_of(rate_limit: str, requests: int, rounds: int) -> tuple[float, float]:
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
            whole = [await per_request_microseconds(app, token, requests) for _ in range(rounds)]
            auth = [await auth_microseconds(app, token, requests) for _ in range(rounds)]
    return min(whole), min(auth)


async def run(requests: int, rounds: int) -> None:
    print(f"{'rate limit':<16}{'us/request':>12}{'us/auth path':>14}")
    for rate_limit in ("999999999/day", "off"):
        whole, auth = await best_of(rate_limit, requests, rounds)
        print(f"{rate_limit:<16}{whole:>12.1f}{auth:>14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.requests, arguments.rounds))


if __name__ == "__main__":
    main()
