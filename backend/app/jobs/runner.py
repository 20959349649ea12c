"""Choosing and running the runner for the configured database."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError

from app.config import Settings
from app.db.database import Database
from app.db.errors import unavailability_cause
from app.jobs.base import JobContext, JobRegistry, JobRunner
from app.jobs.catalogue import JOBS
from app.jobs.in_process import InProcessRunner

logger = logging.getLogger("taskapi.jobs")
_RETRY_SECONDS = (1, 2, 5, 10, 30)


class _Backend(JobRunner, Protocol):
    async def work(self) -> None: ...

    def is_outage(self, error: BaseException) -> bool: ...

    async def close(self) -> None: ...


@asynccontextmanager
async def open_job_runner(
    settings: Settings, database: Database, *, work: bool, registry: JobRegistry = JOBS
) -> AsyncIterator[JobRunner]:
    """A runner that can defer jobs; with `work`, it also runs them for the block. Opening one
    that does not work costs nothing: PostgreSQL connects on the first defer."""
    context = JobContext(database, settings)
    runner: _Backend
    if database.is_sqlite:
        runner = InProcessRunner(registry, context)
    else:
        from app.jobs.postgres import ProcrastinateRunner

        runner = ProcrastinateRunner(registry, context)
    workers = []
    if work:
        workers.append(asyncio.create_task(_keep_working(runner), name="taskapi-jobs"))
        for name, loop in registry.loops.items():
            workers.append(asyncio.create_task(_keep_looping(name, loop, context), name=name))
    try:
        yield runner
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await runner.close()


async def _keep_looping(
    name: str, loop: Callable[[JobContext], Awaitable[None]], context: JobContext
) -> None:
    failures = 0
    while True:
        try:
            await loop(context)
            return
        except Exception as error:  # whatever stopped it, it must keep running
            delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
            failures += 1
            cause = _database_trouble(error)
            if cause is not None:  # an outage: one line, not a traceback per restart
                logger.warning(
                    "jobs: %s stopped (%s); starting it again in %ss", name, cause, delay
                )
            else:
                logger.exception("jobs: %s stopped; starting it again in %ss", name, delay)
            await asyncio.sleep(delay)


def _database_trouble(error: Exception) -> str | None:
    """The database going away, as a short label; None for anything that may be a bug (a
    statement the database refused as wrong keeps its traceback)."""
    cause = unavailability_cause(error)
    if cause is None and isinstance(error, DBAPIError):
        if not isinstance(error, IntegrityError | ProgrammingError | DataError):
            cause = type(error.orig).__name__  # e.g. a connection torn down mid-statement
    return cause


async def _keep_working(runner: _Backend) -> None:
    """The worker, started again after a failure (the database down, say) until cancelled."""
    failures = 0
    while True:
        try:
            await runner.work()
            return
        except Exception as error:  # whatever stopped it, jobs must keep running
            delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
            failures += 1
            if runner.is_outage(error):
                logger.warning(
                    "jobs: the worker stopped (%s: %s); starting it again in %ss",
                    type(error).__name__,
                    str(error).split("\n", 1)[0],
                    delay,
                )
            else:
                logger.exception("jobs: the worker stopped; starting it again in %ss", delay)
            await asyncio.sleep(delay)


async def run_worker(settings: Settings) -> None:
    """`taskapi worker`: runs jobs until SIGTERM or SIGINT, then stops gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    database = Database(settings)
    try:
        async with open_job_runner(settings, database, work=True):
            logger.info("jobs: worker started")
            await stop.wait()
            logger.info("jobs: worker stopping")
    finally:
        await database.dispose()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
