"""What grows with one user's data: creates (the quota count), `q=` search and deep `offset`.

Seeds a scratch PostgreSQL database (bench/seed_many.py: 100 tasks for one user, 100,000 for
another), then times requests through the app (in process, httpx's ASGI transport) for both
users and prints the median and 95th percentile, and the plan of the search for the big user.
Prints figures; asserts nothing (the machine is shared and noisy).

    .venv/bin/python -m bench.user_costs              # from backend/
    PYTHONPATH=/path/to/older/backend .venv/bin/python -m bench.user_costs   # another version
"""

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import upgrade_to_head
from bench.seed_many import seed_postgres
from tests.support.helpers import auth, make_settings, running_app

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "taskapi_user_costs"
USERS = {"small": 100, "big": 100_000}
SEARCH = "SELECT id FROM tasks WHERE user_id = 'big' AND (title_key LIKE '%zzzz%' OR description_key LIKE '%zzzz%') ORDER BY created_at DESC, id DESC LIMIT 501"  # noqa: E501


async def prepare(url: str) -> None:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await connection.exec_driver_sql(f'CREATE DATABASE "{NAME}"')
    await admin.dispose()
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        for owner, count in USERS.items():
            await seed_postgres(connection, owner, count)
        await connection.exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()


async def timings(call: Callable[[], Awaitable[httpx.Response]], runs: int) -> str:
    for _ in range(5):  # warm up
        await call()
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await call()
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status_code < 300, response.text
    return f"{statistics.median(spent):7.2f} / {statistics.quantiles(spent, n=20)[-1]:7.2f}"


async def main(runs: int) -> None:
    url = make_url(ADMIN_URL).set(database=NAME).render_as_string(hide_password=False)
    await prepare(url)
    # A quota above the big user (the count up to it is what a create pays).
    settings = make_settings(database_url=url, rate_limit="off", max_tasks_per_user=1_000_000)
    try:
        async with running_app(settings) as (_, client):
            requests: dict[str, Callable[[str], Callable[[], Awaitable[httpx.Response]]]] = {
                "POST /api/tasks": lambda user: (
                    lambda: client.post("/api/tasks", json={"title": "bench"}, headers=auth(user))
                ),
                "GET default page": lambda user: (
                    lambda: client.get("/api/tasks?limit=20", headers=auth(user))
                ),
                "GET q=zzzz&limit=500": lambda user: (
                    lambda: client.get("/api/tasks?q=zzzz&limit=500", headers=auth(user))
                ),
                "GET sort=title&offset=9000": lambda user: (
                    lambda: client.get(
                        "/api/tasks?sort=title&limit=20&offset=9000", headers=auth(user)
                    )
                ),
            }
            print(f"{runs} runs each, ms: median / p95")
            print(f"{'request':28} {'100 tasks':>18} {'100,000 tasks':>18}")
            for name, request in requests.items():
                cells = [await timings(request(user), runs) for user in USERS]
                print(f"{name:28} {cells[0]:>18} {cells[1]:>18}")
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            plan = await connection.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + SEARCH)
            print("\nplan of q=zzzz for the big user:\n" + "\n".join(row[0] for row in plan))
        await engine.dispose()
    finally:
        admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    asyncio.run(main(parser.parse_args().runs))
