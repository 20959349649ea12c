"""Background jobs on PostgreSQL run once across processes: two real `taskapi worker`
processes share the queue, each job runs exactly once, and a job whose worker is killed with
SIGKILL mid-run is retried by the other one. SQLite's in-process runner: deferred, dedupe,
and periodic jobs on the app's clock."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.database import Database
from app.jobs import JobRunner, UnknownJob, open_job_runner
from tests.support.helpers import (
    SECRET,
    DevServer,
    environment_without_settings,
    make_settings,
    running_app,
)
from tests.support.worker_with_test_jobs import HOLD_SECONDS

BACKEND = Path(__file__).parents[2]
DEADLINE_SECONDS = 60  # every wait below is bounded by this, then fails
# Compressed for the tests: heartbeats every 0.5 s, silent for 2 s means dead, checked each second.
FAST_WORKER = {
    "JOBS_POLL_SECONDS": "0.5",
    "JOBS_HEARTBEAT_SECONDS": "0.5",
    "JOBS_STALLED_AFTER_SECONDS": "2",
    "JOBS_STALLED_CHECK_SCHEDULE": "* * * * * *",
    "JOBS_SHUTDOWN_SECONDS": "1",
}


async def _execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = await connection.execute(text(statement))
                rows = [tuple(row) for row in result.fetchall()] if result.returns_rows else []
            return rows
    finally:
        await engine.dispose()


@pytest.fixture
def jobs_database(postgres_url: str) -> Iterator[str]:
    """The run's PostgreSQL database with an empty queue and a `job_runs` table."""
    asyncio.run(
        _execute(
            postgres_url,
            "DROP TABLE IF EXISTS job_runs",
            "CREATE TABLE job_runs (key text NOT NULL, phase text NOT NULL, pid integer NOT NULL)",
            "DELETE FROM procrastinate_jobs",
            "DELETE FROM procrastinate_workers",
        )
    )
    yield postgres_url
    asyncio.run(_execute(postgres_url, "DROP TABLE job_runs", "DELETE FROM procrastinate_jobs"))


class Workers:
    """`taskapi worker` processes (with the tests' jobs), stopped at the end whatever happens."""

    def __init__(self, database_url: str, logs: Path) -> None:
        self.env = environment_without_settings(
            DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET, **FAST_WORKER
        )
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.worker_with_test_jobs"],
                cwd=BACKEND,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def output(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.logs.glob("worker-*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def workers(jobs_database: str, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(jobs_database, tmp_path)
    try:
        yield started
    finally:
        started.stop()


@asynccontextmanager
async def deferring(database_url: str) -> AsyncIterator[JobRunner]:
    """A runner in this process that only defers (it runs nothing)."""
    settings = make_settings(database_url=database_url)
    database = Database(settings)
    try:
        async with open_job_runner(settings, database, work=False) as runner:
            yield runner
    finally:
        await database.dispose()


async def runs(url: str, phase: str) -> list[tuple[object, ...]]:
    """(key, pid) of every `phase` row, in order."""
    return await _execute(
        url, f"SELECT key, pid FROM job_runs WHERE phase = '{phase}' ORDER BY key, pid"
    )


async def wait_for(url: str, phase: str, count: int, workers: Workers) -> None:
    for _ in range(DEADLINE_SECONDS * 5):  # bounded polling; no timing is asserted
        if len(await runs(url, phase)) >= count:
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"fewer than {count} {phase!r} rows in time; workers said:\n{workers.output()}")


async def queue_rows(url: str) -> list[tuple[object, ...]]:
    return await _execute(url, "SELECT task_name, status FROM procrastinate_jobs ORDER BY id")


async def test_two_workers_run_each_job_exactly_once(jobs_database: str, workers: Workers) -> None:
    workers.start()
    workers.start()
    keys = [f"job-{number:03}" for number in range(60)]

    async with deferring(jobs_database) as runner:
        for key in keys:
            assert await runner.defer("tests.record", key=key) is True
    await wait_for(jobs_database, "done", len(keys), workers)
    await asyncio.sleep(1)  # a second run would show up here, not be waited for

    done = await runs(jobs_database, "done")
    assert [key for key, _pid in done] == keys  # each key once: none lost, none twice
    assert {pid for _key, pid in done} <= {process.pid for process in workers.processes}
    assert [row for row in await queue_rows(jobs_database) if row[0] == "tests.record"] == []


async def test_a_job_whose_worker_is_killed_is_retried_by_another(
    jobs_database: str, workers: Workers
) -> None:
    workers.start()
    workers.start()

    async with deferring(jobs_database) as runner:
        await runner.defer("tests.hold_first_attempt", key="held")
    await wait_for(jobs_database, "started", 1, workers)
    [(_key, holder)] = await runs(jobs_database, "started")
    assert holder in {process.pid for process in workers.processes}
    os.kill(int(str(holder)), signal.SIGKILL)  # one of the two workers this test started

    await wait_for(jobs_database, "done", 1, workers)
    started, done = await runs(jobs_database, "started"), await runs(jobs_database, "done")
    survivor = next(process.pid for process in workers.processes if process.pid != holder)
    assert started == sorted([("held", holder), ("held", survivor)])
    assert done == [("held", survivor)]
    assert HOLD_SECONDS > DEADLINE_SECONDS / 2  # the retry finished, not the held first attempt


async def test_a_dedupe_key_queues_one_job_until_it_starts(jobs_database: str) -> None:
    async with deferring(jobs_database) as runner:
        first = await runner.defer("tests.record", key="once", dedupe_key="only-one")
        second = await runner.defer("tests.record", key="twice", dedupe_key="only-one")

    assert (first, second) == (True, False)
    assert await queue_rows(jobs_database) == [("tests.record", "todo")]


async def test_an_unknown_job_is_refused_and_nothing_is_queued(jobs_database: str) -> None:
    async with deferring(jobs_database) as runner:
        with pytest.raises(UnknownJob):
            await runner.defer("no.such.job")
        with pytest.raises(ValueError, match="JSON"):
            await runner.defer("tests.record", key=object())
        with pytest.raises(ValueError, match="timezone"):
            await runner.defer("tests.record", at=datetime(2026, 12, 1, 12, 0), key="naive")

    assert await queue_rows(jobs_database) == []


async def test_an_app_stopped_as_soon_as_started_leaves_no_worker_behind(
    jobs_database: str,
) -> None:
    settings = make_settings(database_url=jobs_database, jobs_in_process=True)
    for _ in range(5):  # stopped while the worker may still be opening its pool
        async with running_app(settings):
            pass

    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []
    assert await _execute(jobs_database, "SELECT id FROM procrastinate_workers") == []


def test_serve_runs_a_worker_in_each_server_process_by_default(
    jobs_database: str, tmp_path: Path
) -> None:
    env = environment_without_settings(DATABASE_URL=jobs_database, **FAST_WORKER)
    server = DevServer(tmp_path, env)
    try:
        assert server.wait_until_healthy().status_code == 200
        for _ in range(DEADLINE_SECONDS * 5):  # bounded polling; no timing is asserted
            if asyncio.run(_execute(jobs_database, "SELECT id FROM procrastinate_workers")):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"no job worker registered:\n{server.log()}")
    finally:
        server.stop()

    # Stopped gracefully: the worker said goodbye, so nobody waits for its heartbeat.
    assert asyncio.run(_execute(jobs_database, "SELECT id FROM procrastinate_workers")) == []
