"""PostgreSQL: jobs are rows in procrastinate's tables, taken by any worker of any process with
SKIP LOCKED, so each runs once. Workers send heartbeats; a periodic check, run by one worker at
a time, puts back the jobs of a worker that went silent (killed, frozen, cut off) to be retried.

Procrastinate talks psycopg 3, not asyncpg: its own small pool, opened on first use. Behind
PgBouncer in transaction mode LISTEN does not work and prepared statements must be off: the
worker then polls every JOBS_POLL_SECONDS (DATABASE_LISTEN_URL, the direct host, avoids both).
"""

import asyncio
import logging
from datetime import datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from psycopg.conninfo import make_conninfo

from app.config import Settings
from app.db.database import DatabaseTarget, resolve_database_url
from app.jobs.base import (
    JobContext,
    JobFunction,
    JobRegistry,
    UnknownJob,
    as_json,
    check_moment,
)

logger = logging.getLogger("taskapi.jobs")


def is_database_failure(error: BaseException) -> bool:
    """The database went away (refused, dropped, shutting down): a cause to log in one line and
    retry, not a bug with a traceback."""
    return isinstance(error, ConnectorException | psycopg.OperationalError | OSError)


class _OneLineForDatabaseFailures(logging.Filter):
    """procrastinate logs a database outage with its traceback, once per side task: keep the
    line, drop the traceback (the runner restarts the worker and says so)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and is_database_failure(error):
            record.exc_info, record.exc_text = None, None
        return True


_ONE_LINE = _OneLineForDatabaseFailures()
for _name in (
    "procrastinate.worker",
    "procrastinate.worker.taskapi",
    "procrastinate.periodic",
    "procrastinate.utils",
):
    logging.getLogger(_name).addFilter(_ONE_LINE)
APPLICATION_NAME = "taskapi-jobs"  # how its connections show in pg_stat_activity
RETRY_STALLED = "jobs.retry_stalled"
_RETRY_STALLED_LOCK = 0x7461736B6A6F6273  # "taskjobs": one advisory lock key of our own
_LIBPQ_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def jobs_database(settings: Settings) -> DatabaseTarget:
    """Where the jobs go: the direct host when DATABASE_LISTEN_URL names one, else DATABASE_URL."""
    return resolve_database_url(
        settings.database_listen_url or settings.database_url, settings.db_pooler
    )


def psycopg_conninfo(target: DatabaseTarget) -> str:
    """The libpq connection string for the same database as the app's asyncpg URL."""
    url, options = target.url, target.connect_args
    sslmode = options.get("ssl")
    timeout = options.get("timeout")
    return make_conninfo(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        sslmode=None if sslmode is None else (sslmode if sslmode in _LIBPQ_SSLMODES else "require"),
        connect_timeout=None if timeout is None else max(1, round(timeout)),
        application_name=APPLICATION_NAME,
    )


class ProcrastinateRunner:
    def __init__(self, registry: JobRegistry, context: JobContext) -> None:
        self._settings = settings = context.settings
        target = jobs_database(settings)
        self._polling_only = target.behind_pgbouncer
        connection_options: dict[str, Any] = {}
        if target.behind_pgbouncer:
            connection_options["prepare_threshold"] = None
        connector = procrastinate.PsycopgConnector(
            conninfo=psycopg_conninfo(target),
            kwargs=connection_options,
            min_size=1,
            max_size=settings.jobs_concurrency + 2,  # the jobs, the fetcher, the heartbeat
        )
        self._app = procrastinate.App(connector=connector)
        self._open = False
        self._opening = asyncio.Lock()
        for name, function in registry.functions.items():
            schedule = registry.schedules.get(name)
            if schedule is None:
                self._app.task(name=name, pass_context=False)(_deferred(function, context))
            else:
                self._add_periodic(name, schedule(settings), _periodic(function, context))
        # Not serial through a job lock: a worker killed during the check would hold it for
        # good, and no check would ever run again. An advisory lock dies with its connection.
        self._add_periodic(
            RETRY_STALLED,
            settings.jobs_stalled_check_schedule,
            self._retry_stalled_jobs,
            serial=False,
        )

    def _add_periodic(self, name: str, cron: str, function: Any, *, serial: bool = True) -> None:
        # The lock: never two at once; the queueing lock: missed ticks do not pile up.
        lock = name if serial else None
        task = self._app.task(name=name, pass_context=False, lock=lock, queueing_lock=name)
        self._app.periodic(cron=cron, periodic_id=name)(task(function))

    async def _ensure_open(self) -> None:
        async with self._opening:
            if not self._open:
                await self._app.open_async()
                self._open = True

    def is_outage(self, error: BaseException) -> bool:
        return is_database_failure(error)

    async def close(self) -> None:
        # Whether or not opening finished: a start cancelled mid-way leaves a pool to close.
        await self._app.close_async()
        self._open = False

    async def defer(
        self,
        name: str,
        *,
        at: datetime | None = None,
        dedupe_key: str | None = None,
        **arguments: Any,
    ) -> bool:
        task = self._app.tasks.get(name)
        if task is None:
            raise UnknownJob(f"no job named {name!r}")
        check_moment(at)
        arguments = as_json(arguments)
        await self._ensure_open()
        try:
            await task.configure(schedule_at=at, queueing_lock=dedupe_key).defer_async(**arguments)
        except AlreadyEnqueued:
            return False
        return True

    async def work(self) -> None:
        """Runs jobs until cancelled; then waits up to JOBS_SHUTDOWN_SECONDS for running ones."""
        await self._ensure_open()
        if self._polling_only:
            logger.warning(
                "jobs: LISTEN does not work through PgBouncer in transaction mode; polling for "
                "jobs every %ss (set DATABASE_LISTEN_URL to the direct host to be woken at once)",
                self._settings.jobs_poll_seconds,
            )
        settings = self._settings
        await self._app.run_worker_async(
            name="taskapi",
            concurrency=settings.jobs_concurrency,
            wait=True,
            install_signal_handlers=False,
            listen_notify=not self._polling_only,
            fetch_job_polling_interval=settings.jobs_poll_seconds,
            update_heartbeat_interval=settings.jobs_heartbeat_seconds,
            stalled_worker_timeout=settings.jobs_stalled_after_seconds,
            shutdown_graceful_timeout=settings.jobs_shutdown_seconds,
            delete_jobs="successful",
        )

    async def _retry_stalled_jobs(self, timestamp: int) -> None:
        """One check at a time: two could both see a job stalled, and the second put it back
        while a live worker already runs it again."""
        manager = self._app.job_manager
        connector = self._app.connector
        assert isinstance(connector, procrastinate.PsycopgConnector)
        async with connector.pool.connection() as connection, connection.transaction():
            cursor = await connection.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", (_RETRY_STALLED_LOCK,)
            )
            locked = await cursor.fetchone()
            if not (locked and locked[0]):
                return  # another worker is checking
            stalled = await manager.get_stalled_jobs(
                seconds_since_heartbeat=self._settings.jobs_stalled_after_seconds
            )
            for job in stalled:
                logger.warning(
                    "jobs: retrying job %s (%s): its worker went silent", job.id, job.task_name
                )
                await manager.retry_job(job)


def _deferred(function: JobFunction, context: JobContext) -> JobFunction:
    async def run(**arguments: Any) -> None:
        await function(context, **arguments)

    return run


def _periodic(function: JobFunction, context: JobContext) -> JobFunction:
    async def run(timestamp: int) -> None:  # procrastinate passes the tick's time
        await function(context)

    return run
