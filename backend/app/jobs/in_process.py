"""SQLite: jobs run in this process, one at a time, from memory. Due times are read from the
app's clock (`Database.clock`); periodic jobs fire at their cron ticks.

Nothing survives a restart: a deferred job not yet run is lost, and a job that fails is logged,
not retried. (PostgreSQL's runner keeps jobs in the database and retries stalled ones.)
"""

import asyncio
import heapq
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from croniter import croniter

from app.jobs.base import JobArguments, JobContext, JobRegistry, as_json, check_moment

logger = logging.getLogger("taskapi.jobs")
# The longest nap between looks at the clock: a test clock may jump forward at any time.
_MAX_NAP_SECONDS = 1.0


@dataclass(order=True)
class _Queued:
    due: datetime
    serial: int
    name: str = field(compare=False)
    arguments: JobArguments = field(compare=False)
    dedupe_key: str | None = field(compare=False)


class InProcessRunner:
    def __init__(self, registry: JobRegistry, context: JobContext) -> None:
        self._registry = registry
        self._context = context
        self._clock = context.database.clock
        self._queue: list[_Queued] = []
        self._waiting_keys: set[str] = set()
        self._serials = itertools.count()
        self._changed = asyncio.Event()

    async def defer(
        self,
        name: str,
        *,
        at: datetime | None = None,
        dedupe_key: str | None = None,
        **arguments: Any,
    ) -> bool:
        self._registry.function(name)  # an unknown name fails here, not later in the worker
        check_moment(at)
        arguments = as_json(arguments)
        if dedupe_key is not None:
            if dedupe_key in self._waiting_keys:
                return False
            self._waiting_keys.add(dedupe_key)
        due = at or self._clock()
        heapq.heappush(self._queue, _Queued(due, next(self._serials), name, arguments, dedupe_key))
        self._changed.set()
        return True

    async def work(self) -> None:
        """Runs due jobs until cancelled."""
        schedules = {
            name: croniter(schedule(self._context.settings), self._clock())
            for name, schedule in self._registry.schedules.items()
        }
        ticks = {name: schedule.get_next(datetime) for name, schedule in schedules.items()}
        while True:
            now = self._clock()
            for name, tick in ticks.items():
                if tick <= now:
                    await self.defer(name, dedupe_key=f"periodic:{name}")
                    ticks[name] = schedules[name].get_next(datetime, start_time=now)
            if self._queue and self._queue[0].due <= now:
                await self._run(heapq.heappop(self._queue))
                continue
            await self._nap(
                min([*ticks.values(), *(job.due for job in self._queue[:1])], default=None)
            )

    def is_outage(self, error: BaseException) -> bool:
        return isinstance(error, OSError)

    async def close(self) -> None:
        pass

    async def _nap(self, until: datetime | None) -> None:
        seconds = _MAX_NAP_SECONDS
        if until is not None:
            seconds = min(seconds, max(0.0, (until - self._clock()).total_seconds()))
        self._changed.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._changed.wait()
        except TimeoutError:
            pass

    async def _run(self, job: _Queued) -> None:
        if job.dedupe_key is not None:
            self._waiting_keys.discard(job.dedupe_key)
        try:
            await self._registry.function(job.name)(self._context, **job.arguments)
        except Exception:  # one job's failure must not stop the others
            logger.exception("job %s failed", job.name)
