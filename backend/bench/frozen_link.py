"""How long does a request wait when the link to PostgreSQL stops carrying bytes?

Runs the app on a scratch database reached through a TCP proxy (tests/support/tcp_proxy.py), freezes
the proxy for `--freeze` seconds, sends `--requests` concurrent GET /api/tasks at once, and
prints each answer's status and wait: the longest, the median, and the codes. Prints figures;
asserts nothing (the machine is shared and noisy).

    .venv/bin/python -m bench.frozen_link                        # from backend/, today's defaults
    .venv/bin/python -m bench.frozen_link --connect-timeout 60   # asyncpg's default: before
"""

import argparse
import asyncio
import os
import statistics
import time
from collections import Counter

from sqlalchemy.engine import make_url

from tests.conftest import _recreate_database, migrate_database
from tests.support.helpers import ALICE, auth, make_settings, running_app
from tests.support.tcp_proxy import TcpProxy

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "taskapi_frozen_link"


async def timed_get(client: object, path: str) -> tuple[float, int, str]:
    started = time.monotonic()
    response = await client.get(path, headers=auth(ALICE))  # type: ignore[attr-defined]
    code = response.json().get("error_code", "") if response.status_code >= 400 else ""
    return time.monotonic() - started, response.status_code, code


async def measure(freeze_seconds: float, requests: int, connect_timeout: float) -> None:
    await _recreate_database(ADMIN_URL, NAME)
    url = make_url(ADMIN_URL).set(database=NAME)
    await migrate_database(url.render_as_string(hide_password=False))
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = make_settings(database_url=proxied, db_connect_timeout_seconds=connect_timeout)
    try:
        async with running_app(settings) as (_, client):
            await client.get("/api/tasks", headers=auth(ALICE))  # one warm connection
            proxy.freeze()
            thaw = asyncio.get_running_loop().call_later(freeze_seconds, proxy.thaw)
            answers = await asyncio.gather(
                *(timed_get(client, "/api/tasks") for _ in range(requests))
            )
            thaw.cancel()
            proxy.thaw()
    finally:
        await proxy.cut()
        await _recreate_database(ADMIN_URL, NAME, drop_only=True)
    waits = sorted(wait for wait, _, _ in answers)
    codes = Counter(f"{status} {code}".strip() for _, status, code in answers)
    print(
        f"link frozen {freeze_seconds:g} s, connect timeout {connect_timeout:g} s, "
        f"{requests} requests: longest wait {waits[-1]:.2f} s, "
        f"median {statistics.median(waits):.2f} s; {dict(codes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--freeze", type=float, default=30, help="seconds the link is frozen")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--connect-timeout", type=float, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.freeze, args.requests, args.connect_timeout))


if __name__ == "__main__":
    main()
