"""SQLite's runner: jobs run in the server process, due times read from the app's clock (the
tests' clock here), the sync purge among them."""

import asyncio
import gc
import shutil
import warnings
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.exc import SAWarning

from app.config import Settings
from app.db.database import Database
from app.jobs import JobContext, JobRegistry, JobRunner, UnknownJob, open_job_runner
from app.state import app_state
from tests.db.test_database_cancellation import checked_out
from tests.idempotency.test_idempotency import age_keys, post, stored_keys
from tests.support.clock import CLOCK
from tests.support.clock import now as clock_now
from tests.support.helpers import make_settings, running_app

MAX_POLLS = 300  # 30 s of polling at most; no timing is asserted


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "taskapi.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


class Calls:
    """A registry with one job that records its calls, as (argument, the clock's time)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, datetime]] = []
        self.registry = JobRegistry()
        self.registry.job("record")(self.record)

    async def record(self, context: JobContext, value: str) -> None:
        self.seen.append((value, context.database.clock()))


@pytest.fixture
async def worker(sqlite_url: str) -> AsyncIterator[tuple[JobRunner, Calls]]:
    settings: Settings = make_settings(database_url=sqlite_url)
    database = Database(settings, CLOCK)
    calls = Calls()
    try:
        async with open_job_runner(
            settings, database, work=True, registry=calls.registry
        ) as runner:
            yield runner, calls
    finally:
        await database.dispose()


async def wait_for_calls(calls: Calls, count: int) -> None:
    for _ in range(MAX_POLLS):
        if len(calls.seen) >= count:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"{count} calls expected, got {calls.seen}")


async def test_a_deferred_job_runs_once_with_its_arguments(
    worker: tuple[JobRunner, Calls],
) -> None:
    runner, calls = worker

    assert await runner.defer("record", value="a") is True
    await wait_for_calls(calls, 1)
    await asyncio.sleep(0.2)  # a second run would show up here

    assert [value for value, _at in calls.seen] == ["a"]


async def test_a_job_deferred_to_later_waits_for_the_clock(
    worker: tuple[JobRunner, Calls],
) -> None:
    runner, calls = worker
    at = clock_now() + timedelta(hours=2)

    await runner.defer("record", at=at, value="later")
    await runner.defer("record", value="now")
    await wait_for_calls(calls, 1)
    CLOCK.advance(timedelta(hours=2))
    await wait_for_calls(calls, 2)

    assert [value for value, _at in calls.seen] == ["now", "later"]
    assert calls.seen[1][1] >= at


async def test_a_dedupe_key_queues_one_job_until_it_starts(
    worker: tuple[JobRunner, Calls],
) -> None:
    runner, calls = worker
    at = clock_now() + timedelta(hours=1)

    first = await runner.defer("record", at=at, dedupe_key="k", value="first")
    second = await runner.defer("record", at=at, dedupe_key="k", value="second")
    CLOCK.advance(timedelta(hours=1))
    await wait_for_calls(calls, 1)
    third = await runner.defer("record", dedupe_key="k", value="third")  # the first has run
    await wait_for_calls(calls, 2)

    assert (first, second, third) == (True, False, True)
    assert [value for value, _at in calls.seen] == ["first", "third"]


async def test_an_unknown_job_is_refused(worker: tuple[JobRunner, Calls]) -> None:
    runner, calls = worker

    with pytest.raises(UnknownJob):
        await runner.defer("no.such.job")
    assert calls.seen == []


@pytest.mark.parametrize(
    ("when", "value"),
    [
        pytest.param(datetime(2026, 12, 1, 12, 0), "naive time", id="naive-time"),
        pytest.param(None, object(), id="not-json"),
    ],
)
async def test_what_a_job_cannot_take_is_refused_when_deferring(
    worker: tuple[JobRunner, Calls], when: datetime | None, value: object
) -> None:
    runner, calls = worker

    with pytest.raises(ValueError, match="JSON|timezone"):
        await runner.defer("record", at=when, value=value)
    await runner.defer("record", value="after")
    await wait_for_calls(calls, 1)

    assert [seen for seen, _at in calls.seen] == ["after"]  # the refused ones never ran


async def test_the_sync_purge_runs_through_the_runner_at_its_cron_tick(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, jobs_in_process=True)  # hourly by default
    async with running_app(settings) as (app, client):
        await post(client, "old")
        await age_keys(app, timedelta(hours=25))
        await asyncio.sleep(0.5)
        assert await stored_keys(app) != []  # not before its tick

        CLOCK.advance(timedelta(hours=1))
        await wait_until_purged(app)

        assert await stored_keys(app) == []


async def wait_until_purged(app: FastAPI) -> None:
    for _ in range(MAX_POLLS):
        if not await stored_keys(app):
            return
        await asyncio.sleep(0.1)


async def test_the_worker_is_not_started_when_jobs_are_not_in_process(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, jobs_in_process=False)
    async with running_app(settings) as (app, client):
        await post(client, "old")
        await age_keys(app, timedelta(hours=25))
        CLOCK.advance(timedelta(hours=2))
        await asyncio.sleep(1.5)  # longer than the runner's longest nap

        assert len(await stored_keys(app)) == 1
        assert app_state(app).jobs is not None  # deferring still works; `taskapi worker` runs


async def test_shutting_down_as_a_job_takes_a_connection_gives_the_connection_back(
    sqlite_url: str,
) -> None:
    """The flake this guards against: the runner stopped (the app shutting down) just as the
    pool handed a job its connection; the cancelled job left it checked out, and the garbage
    collector warned about it later, in whatever test was running then."""
    settings = make_settings(database_url=sqlite_url)
    database = Database(settings, CLOCK)
    handed_out = asyncio.Event()
    registry = JobRegistry()

    @registry.job("write")
    async def write(context: JobContext) -> None:
        async with context.database.transaction() as connection:
            await connection.execute(text("SELECT 1"))

    def on_checkout(*_: object) -> None:
        handed_out.set()  # the test stops the runner while the job is still inside connect()

    event.listen(database.engine.sync_engine, "checkout", on_checkout)
    try:
        async with open_job_runner(settings, database, work=True, registry=registry) as runner:
            await runner.defer("write")
            async with asyncio.timeout(MAX_POLLS * 0.1):  # bounded; no timing is asserted
                await handed_out.wait()
        checked_out_at_shutdown = checked_out(database)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gc.collect()
    finally:
        event.remove(database.engine.sync_engine, "checkout", on_checkout)
        await database.dispose()

    assert checked_out_at_shutdown == 0
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []
