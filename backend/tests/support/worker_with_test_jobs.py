"""`taskapi worker` with two jobs of the tests' own registered beside the app's: run it as
`python -m tests.support.worker_with_test_jobs`. Each job writes what it did to `job_runs`, a
table the
tests create, so a test reads from the database how often each job ran, and in which process."""

import asyncio
import os

from sqlalchemy import text

from app.cli import main
from app.jobs import JOBS, JobContext

# Long enough for the test to kill the worker; bounded, so nothing hangs if it never does.
HOLD_SECONDS = 60


async def _note(context: JobContext, key: str, phase: str) -> int:
    """Writes (key, phase, this process) and answers how many `phase` rows `key` now has."""
    async with context.database.transaction() as connection:
        await connection.execute(
            text("INSERT INTO job_runs (key, phase, pid) VALUES (:key, :phase, :pid)"),
            {"key": key, "phase": phase, "pid": os.getpid()},
        )
        count = await connection.scalar(
            text("SELECT count(*) FROM job_runs WHERE key = :key AND phase = :phase"),
            {"key": key, "phase": phase},
        )
    return int(count or 0)


@JOBS.job("tests.record")
async def record(context: JobContext, key: str) -> None:
    await _note(context, key, "done")


@JOBS.job("tests.hold_first_attempt")
async def hold_first_attempt(context: JobContext, key: str) -> None:
    """The first attempt hangs (until its worker is killed); a retry finishes."""
    if await _note(context, key, "started") == 1:
        await asyncio.sleep(HOLD_SECONDS)
    await _note(context, key, "done")


if __name__ == "__main__":
    main(["worker"])
