"""Reminders due in the same minute, fired by several worker processes at once: how long until
all have fired, and proof that each fired exactly once (one `reminder_fired` event per
reminder, none left unfired).

    ../.venv/bin/python -m bench.reminders --count 100000 --users 1000 --workers 2

Uses a scratch PostgreSQL database (TEST_POSTGRES_URL's server), dropped at the end. Each worker
is a process running app.reminders.service.fire_due, as the `reminders.fire_due` job does.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db.database import Database
from app.db.migrate import upgrade_to_head
from app.reminders.service import fire_due

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "taskapi_bench_reminders"

# One open task per reminder, owners in turn; every reminder due in the last minute.
_TASKS = text("""
INSERT INTO tasks (id, user_id, title, is_completed, created_at, updated_at, priority, tags,
                   title_key, description_key, due_key, due_key_desc, position, reminders)
SELECT gen_random_uuid(), 'user' || (n % :users), 'Task ' || n, false, now(), now(), 0, '[]',
       'task ' || n, '', 0, 0, 'a0', '[{"at": "2026-01-01T00:00:00+00:00"}]'
FROM generate_series(1, :count) AS n
""")
_REMINDERS = text("""
INSERT INTO reminders (id, user_id, task_id, number, fire_at)
SELECT gen_random_uuid(), user_id, id, 0, now() - make_interval(secs => random() * 59 + 1)
FROM tasks
""")


def url_of(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def prepare(url: str, count: int, users: int) -> None:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await connection.exec_driver_sql(f'CREATE DATABASE "{NAME}"')
    await admin.dispose()
    engine = create_async_engine(url)
    await upgrade_to_head(engine)
    async with engine.begin() as connection:
        await connection.execute(_TASKS, {"count": count, "users": users})
        await connection.execute(_REMINDERS)
    await engine.dispose()


async def work(url: str) -> None:
    """One worker: fires what is due until nothing is."""
    database = Database(Settings(_env_file=None, environment="development", database_url=url))
    try:
        fired = await fire_due(database, database.clock())
        print(f"worker {os.getpid()}: fired {fired:,}", flush=True)
    finally:
        await database.dispose()


async def check(url: str) -> tuple[int, int, int, int]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("""
                SELECT (SELECT count(*) FROM reminders),
                       (SELECT count(*) FROM reminders WHERE fired_at IS NULL),
                       (SELECT count(*) FROM events WHERE kind = 'reminder_fired'),
                       (SELECT count(DISTINCT state -> 'reminder' ->> 'id') FROM events
                        WHERE kind = 'reminder_fired')
                """)
            )
        ).one()
    await engine.dispose()
    return row[0], row[1], row[2], row[3]


async def drop() -> None:
    admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", help=argparse.SUPPRESS)  # a worker process: its database URL
    arguments = parser.parse_args()
    if arguments.work:
        asyncio.run(work(arguments.work))
        return
    url = url_of(NAME)
    started = time.perf_counter()
    asyncio.run(prepare(url, arguments.count, arguments.users))
    print(
        f"seeded {arguments.count:,} reminders of {arguments.users:,} users due in the last "
        f"minute in {time.perf_counter() - started:.1f} s"
    )
    try:
        started = time.perf_counter()
        command = [sys.executable, "-m", "bench.reminders", "--work", url]
        workers = [subprocess.Popen(command) for _ in range(arguments.workers)]
        codes = [worker.wait() for worker in workers]
        elapsed = time.perf_counter() - started
        total, unfired, events, distinct = asyncio.run(check(url))
        print(
            f"{arguments.workers} workers (exit codes {codes}): all fired in {elapsed:.1f} s "
            f"({total / elapsed:,.0f}/s, process start-up included)"
        )
        print(
            f"reminders {total:,}, unfired {unfired:,}, events {events:,}, "
            f"distinct reminders in events {distinct:,}: "
            + ("each exactly once" if unfired == 0 and events == distinct == total else "WRONG")
        )
    finally:
        asyncio.run(drop())


if __name__ == "__main__":
    main()
