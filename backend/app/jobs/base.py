"""What a job is, where jobs are registered, and what the app may ask of a runner."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from app.config import Settings

if TYPE_CHECKING:
    from app.db.database import Database

# Arguments travel as JSON (a PostgreSQL column, or a dict in memory): str, int, float, bool,
# None, lists and dicts of them.
JobArguments = dict[str, Any]
# `async def job(context: JobContext, **arguments) -> None`
JobFunction = Callable[..., Awaitable[None]]
# A periodic job's cron schedule, read from the settings when a runner starts.
ScheduleOf = Callable[[Settings], str]


class UnknownJob(LookupError):
    pass


@dataclass(frozen=True)
class JobContext:
    """What every job is called with."""

    database: "Database"
    settings: Settings


@dataclass
class JobRegistry:
    """Every job by name. Names are stored with deferred jobs: never rename one that may be
    queued."""

    functions: dict[str, JobFunction] = field(default_factory=dict)
    schedules: dict[str, ScheduleOf] = field(default_factory=dict)
    # Long-running loops (`async def loop(context) -> None`, never returning) started beside
    # the job worker in every process that works, each started again if it fails.
    loops: dict[str, Callable[[JobContext], Awaitable[None]]] = field(default_factory=dict)

    def job(self, name: str) -> Callable[[JobFunction], JobFunction]:
        """Registers a job that is deferred (`JobRunner.defer`)."""

        def register(function: JobFunction) -> JobFunction:
            if name in self.functions:
                raise ValueError(f"job {name!r} is already registered")
            self.functions[name] = function
            return function

        return register

    def periodic(self, name: str, schedule: ScheduleOf) -> Callable[[JobFunction], JobFunction]:
        """Registers a job run on a cron schedule (once per tick across all workers, never two
        at once). It takes the context only."""

        def register(function: JobFunction) -> JobFunction:
            self.job(name)(function)
            self.schedules[name] = schedule
            return function

        return register

    def loop(
        self, name: str
    ) -> Callable[
        [Callable[[JobContext], Awaitable[None]]], Callable[[JobContext], Awaitable[None]]
    ]:
        """Registers a loop that runs in every working process (it shares work through the
        database itself, e.g. with SKIP LOCKED)."""

        def register(
            function: Callable[[JobContext], Awaitable[None]],
        ) -> Callable[[JobContext], Awaitable[None]]:
            self.loops[name] = function
            return function

        return register

    def function(self, name: str) -> JobFunction:
        try:
            return self.functions[name]
        except KeyError:
            raise UnknownJob(f"no job named {name!r}") from None


def as_json(arguments: dict[str, Any]) -> JobArguments:
    """The arguments as the job will get them: through JSON, on either runner. What JSON cannot
    carry fails here, when deferring, not later in a worker."""
    try:
        loaded: JobArguments = orjson.loads(orjson.dumps(arguments))
    except TypeError as error:
        raise ValueError(f"job arguments must be JSON: {error}") from None
    return loaded


def check_moment(at: datetime | None) -> None:
    if at is not None and at.utcoffset() is None:
        raise ValueError("a job's time must be timezone-aware")


class JobRunner(Protocol):
    async def defer(
        self,
        name: str,
        *,
        at: datetime | None = None,
        dedupe_key: str | None = None,
        **arguments: Any,
    ) -> bool:
        """Queues job `name` to run now or at `at` (an aware datetime), once. With a
        `dedupe_key`, nothing is queued while a job with that key waits to start: the answer is
        then False."""
        ...
