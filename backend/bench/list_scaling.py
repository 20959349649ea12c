"""Does a filtered page cost the same for a user with 100 tasks as for one with 100,000?

Seeds a scratch PostgreSQL database (bench/seed_many.py: 100 tasks for one user, 100,000 for
another, 100,000 more for a third), then times the app's own list service for common queries,
each user in turn, and prints the median and 95th percentile per query, and the plan of each
query for the big user. Prints figures; asserts nothing (the machine is shared and noisy).

    .venv/bin/python -m bench.list_scaling            # from backend/
    .venv/bin/python -m bench.list_scaling --runs 200
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import date

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db.database import Database
from app.db.migrate import upgrade_to_head
from app.kit.pagination import PageParams
from app.tasks import service
from app.tasks.query import DueBound, TaskFilter, TaskQuery
from bench.seed_many import seed_postgres

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "taskapi_list_scaling"
USERS = {"small": 100, "big": 100_000, "neighbour": 100_000}
PAGE = PageParams(limit=20, offset=0)


def query(sort: str = "-created_at", **filters: object) -> TaskQuery:
    return TaskQuery(
        TaskFilter(**filters),  # type: ignore[arg-type]
        sort=sort.lstrip("-"),  # type: ignore[arg-type]
        descending=sort.startswith("-"),
        uses_cursor=True,
    )


QUERIES = {
    "default list (newest first, offset)": None,
    "open, high priority, newest first": query(completed=False, priorities=(3,)),
    "tagged work, newest first": query(tags=("work",)),
    "due this week, soonest first": query(
        "due",
        due_after=DueBound.after(date(2026, 11, 29)),
        due_before=DueBound.before(date(2026, 12, 7)),
    ),
    "overdue, soonest first": query("due", overdue=True),
    "by title": query("title"),
    "by priority, high first": query("-priority"),
    "search q=task 0000 (a scan of the user's tasks)": query(text="task 0000"),
}


async def prepare(url: str) -> None:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await connection.exec_driver_sql(f'CREATE DATABASE "{NAME}"')
    await admin.dispose()
    engine = create_async_engine(url)
    await upgrade_to_head(engine)
    async with engine.begin() as connection:
        for owner, count in USERS.items():
            await seed_postgres(connection, owner, count)
    await engine.dispose()
    autocommit = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as connection:
        await connection.exec_driver_sql("VACUUM ANALYZE tasks")
        await connection.exec_driver_sql("VACUUM ANALYZE task_tags")
    await autocommit.dispose()


async def time_page(
    database: Database, owner: str, task_query: TaskQuery | None, runs: int
) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        await service.list_tasks(database, owner, PAGE, task_query, b"key")
        timings.append((time.perf_counter() - start) * 1000)
    return timings


async def plan(database: Database, task_query: TaskQuery | None) -> str:
    sent: list[tuple[str, object]] = []

    def capture(
        conn: object, cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        sent.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    await service.list_tasks(database, "big", PAGE, task_query, b"key")
    event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    async with database.connect() as connection:
        rows = await connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement,
            parameters,  # type: ignore[arg-type]
        )
        return "\n".join("    " + row[0] for row in rows)


async def main(runs: int, keep: bool) -> None:
    url = make_url(ADMIN_URL).set(database=NAME).render_as_string(hide_password=False)
    started = time.perf_counter()
    await prepare(url)
    print(f"seeded {sum(USERS.values()):,} tasks in {time.perf_counter() - started:.1f} s")
    settings = Settings(_env_file=None, environment="development", database_url=url)
    database = Database(settings)
    try:
        print(f"\nlimit={PAGE.limit}, {runs} runs each, ms: median / p95 (first runs warm up)")
        print(f"{'query':50} {'100 tasks':>18} {'100,000 tasks':>18}")
        for name, task_query in QUERIES.items():
            cells = []
            for owner in ("small", "big"):
                await time_page(database, owner, task_query, 5)  # warm up
                timings = await time_page(database, owner, task_query, runs)
                p95 = statistics.quantiles(timings, n=20)[-1]
                cells.append(f"{statistics.median(timings):7.2f} / {p95:7.2f}")
            print(f"{name:50} {cells[0]:>18} {cells[1]:>18}")
        print("\nplans for the user with 100,000 tasks:")
        for name, task_query in QUERIES.items():
            print(f"\n  {name}\n{await plan(database, task_query)}")
    finally:
        await database.dispose()
        if not keep:
            admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
            await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.keep))
