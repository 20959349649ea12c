"""Does `sort=position` cost what the default list costs? 10,000 top-level tasks of one user,
all in one list (in a scratch PostgreSQL database, seeded by bench/seed_many.py; a neighbour
with as many in a list of their own), then the first page and a page deep in a cursor walk,
each way, with and without `list=`, through the real app. Prints figures (median / p95 ms,
and the ratio to the default list) and the plans; asserts nothing (the machine is noisy).

    .venv/bin/python -m bench.position_sort            # from backend/
    .venv/bin/python -m bench.position_sort --runs 300
"""

import argparse
import asyncio
import functools
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import upgrade_to_head
from bench.seed_many import seed_postgres
from tests.support.clock import CLOCK, wall_now
from tests.support.helpers import auth, make_settings, running_app

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "taskapi_position_sort"
USER = "position-user"
TASKS = 10_000
LIST = "5e1f0000-0000-4000-8000-000000000001"
NEIGHBOURS_LIST = "5e1f0000-0000-4000-8000-000000000002"
_INTO_A_LIST = (
    "INSERT INTO lists (id, user_id, name, position, archived, created_at, updated_at, version)"
    " VALUES ('{list_id}', '{owner}', 'everything', 'a0', false, now(), now(), 1)",
    "UPDATE tasks SET list_id = '{list_id}' WHERE user_id = '{owner}'",
)


async def prepare(url: str) -> None:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await connection.exec_driver_sql(f'CREATE DATABASE "{NAME}"')
    await admin.dispose()
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        await seed_postgres(connection, USER, TASKS)
        await seed_postgres(connection, "neighbour", TASKS)
        for owner, list_id in ((USER, LIST), ("neighbour", NEIGHBOURS_LIST)):
            for statement in _INTO_A_LIST:
                await connection.exec_driver_sql(statement.format(owner=owner, list_id=list_id))
        await connection.exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()


async def timed(call: Callable[[], Awaitable[httpx.Response]], runs: int) -> list[float]:
    for _ in range(10):  # warm up
        await call()
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await call()
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return spent


async def main(runs: int) -> None:
    url = make_url(ADMIN_URL).set(database=NAME).render_as_string(hide_password=False)
    await prepare(url)
    settings = make_settings(database_url=url, rate_limit="off")
    CLOCK.set(wall_now())  # the seeded rows are dated by the database's clock
    headers = auth(USER)
    try:
        async with running_app(settings) as (_, client):
            # The URL of page 50 of a position walk (limit 100): a cursor deep in the list.
            link = "/api/tasks?sort=position&limit=100"
            for _ in range(49):
                response = await client.get(link, headers=headers)
                link = response.headers["Link"].split(">")[0].lstrip("<")
            pages = {
                "default (newest first), limit 100": "/api/tasks?limit=100",
                "sort=position, limit 100": "/api/tasks?sort=position&limit=100",
                "parent=none&sort=position, limit 100": (
                    "/api/tasks?parent=none&sort=position&limit=100"
                ),
                "sort=position, page 50 by cursor": link,
                "list=L, limit 100 (cursor mode)": f"/api/tasks?list={LIST}&limit=100",
                "list=L&sort=position, limit 100": (
                    f"/api/tasks?list={LIST}&sort=position&limit=100"
                ),
                "list=L&parent=none&sort=position, limit 100": (
                    f"/api/tasks?list={LIST}&parent=none&sort=position&limit=100"
                ),
                "sort=created_at, limit 100 (cursor mode)": "/api/tasks?sort=created_at&limit=100",
            }
            print(f"{TASKS} tasks, {runs} runs each, ms: median / p95 (ratio to the default)")
            base = None
            for name, page in pages.items():
                spent = await timed(functools.partial(client.get, page, headers=headers), runs)
                median = statistics.median(spent)
                base = base or median
                p95 = statistics.quantiles(spent, n=20)[-1]
                print(f"{name:44} {median:7.2f} / {p95:7.2f}   x{median / base:.2f}")
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            for sql in (
                f"SELECT * FROM tasks WHERE user_id = '{USER}' ORDER BY position, id LIMIT 101",
                f"SELECT * FROM tasks WHERE user_id = '{USER}' AND parent_id IS NULL"
                " ORDER BY position, id LIMIT 101",
                f"SELECT * FROM tasks WHERE user_id = '{USER}' AND list_id = '{LIST}'"
                " ORDER BY position, id LIMIT 101",
                f"SELECT * FROM tasks WHERE user_id = '{USER}' AND list_id = '{LIST}'"
                " AND parent_id IS NULL ORDER BY position, id LIMIT 101",
            ):
                plan = await connection.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
                print(f"\n{sql}\n" + "\n".join(row[0] for row in plan))
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
