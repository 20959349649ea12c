"""Two worker processes on PostgreSQL fire the same due reminders at once: each fires exactly
once (one `reminder_fired` event per reminder, none left unfired)."""

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import POSTGRES_URL, migrate_database, new_postgres_database
from tests.support.clock import START
from tests.support.helpers import SECRET, environment_without_settings

BACKEND = Path(__file__).parents[2]
REMINDERS, USERS = 600, 30
DEADLINE_SECONDS = 30  # every wait below is bounded by this, then fails
DUE = START + timedelta(days=1)

_SEED = (
    """INSERT INTO tasks (id, user_id, title, is_completed, created_at, updated_at, priority,
        tags, title_key, description_key, due_key, due_key_desc, position, reminders)
    SELECT gen_random_uuid(), 'user' || (n % :users), 'Task ' || n, false, :now, :now, 0, '[]',
        'task ' || n, '', 0, 0, 'a0', '[{"at": "2026-11-27T12:00:00+00:00"}]'
    FROM generate_series(1, :count) AS n""",
    """INSERT INTO reminders (id, user_id, task_id, number, fire_at)
    SELECT gen_random_uuid(), user_id, id, 0, :due FROM tasks""",
)
_COUNTS = """SELECT (SELECT count(*) FROM reminders WHERE fired_at IS NULL),
    (SELECT count(*) FROM events WHERE kind = 'reminder_fired'),
    (SELECT count(DISTINCT state -> 'reminder' ->> 'id') FROM events
     WHERE kind = 'reminder_fired')"""


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """A database of its own (the run's one is skipped when PostgreSQL is unreachable)."""
    with new_postgres_database(POSTGRES_URL, "taskapi_reminders") as url:
        asyncio.run(migrate_database(url))
        asyncio.run(_seed(url))
        yield url


async def _seed(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        parameters = {"users": USERS, "count": REMINDERS, "now": START, "due": DUE}
        for statement in _SEED:
            await connection.execute(text(statement), parameters)
    await engine.dispose()


async def _counts(url: str) -> tuple[int, int, int]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        row = (await connection.execute(text(_COUNTS))).one()
    await engine.dispose()
    return row[0], row[1], row[2]


def test_two_workers_fire_each_reminder_exactly_once(database_url: str) -> None:
    moment = (DUE + timedelta(seconds=30)).isoformat()
    command = [sys.executable, "-m", "tests.support.fire_reminders", database_url, moment]
    workers = [
        subprocess.Popen(command, cwd=BACKEND, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0]
    assert sum(int(output.strip()) for output in outputs) == REMINDERS
    assert asyncio.run(_counts(database_url)) == (0, REMINDERS, REMINDERS)


def test_two_taskapi_workers_fire_each_reminder_exactly_once(database_url: str) -> None:
    """Two real `taskapi worker` processes, the reminders job on every second's tick: every
    reminder due fires, each exactly once."""
    asyncio.run(_make_due_now(database_url))
    env = environment_without_settings(
        DATABASE_URL=database_url,
        BETTER_AUTH_SECRET=SECRET,
        REMINDERS_SCHEDULE="* * * * * *",  # croniter's sixth field: seconds
        JOBS_POLL_SECONDS="0.2",
        JOBS_SHUTDOWN_SECONDS="1",
    )
    command = [sys.executable, "-m", "app.cli", "worker"]
    workers = [
        subprocess.Popen(command, cwd=BACKEND, env=env, stderr=subprocess.PIPE) for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while asyncio.run(_counts(database_url))[0] > 0:
            assert time.monotonic() < deadline, "the workers did not fire every reminder in time"
            assert all(worker.poll() is None for worker in workers), "a worker stopped"
            time.sleep(0.2)  # polling for completion
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        errors = [worker.communicate(timeout=15)[1].decode() for worker in workers]

    assert asyncio.run(_counts(database_url)) == (0, REMINDERS, REMINDERS), errors


async def _make_due_now(url: str) -> None:
    """The worker reads the real clock: the seeded reminders become due 30 s before it."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE reminders SET fire_at = now() - make_interval(secs => 30)")
        )
    await engine.dispose()
