"""The webhook worker: derives deliveries from the outbox, claims the due ones and sends them
concurrently, at most WEBHOOK_CONCURRENCY at once per process and
WEBHOOK_CONCURRENCY_PER_ENDPOINT per endpoint, so a slow endpoint holds only its own slots.
It runs beside the job worker (`taskapi serve` with JOBS_IN_PROCESS, or `taskapi worker`);
on PostgreSQL any number of workers share the work (SKIP LOCKED)."""

import asyncio
import logging
import random
import uuid
from collections import Counter
from typing import TYPE_CHECKING

from app.config import Settings
from app.db.database import Database
from app.webhooks import outbox, queue
from app.webhooks.sender import Sender
from app.webhooks.ssrf import Resolver, SystemResolver

if TYPE_CHECKING:  # app.jobs imports this module (its catalogue)
    from app.jobs.base import JobContext

logger = logging.getLogger("taskapi.webhooks")
# A claim's lease: twice the longest an attempt may take (WEBHOOK_TIMEOUT_SECONDS).
_LEASE_FACTOR = 2
# Idle (a step found nothing to derive or send, and nothing is in flight), the worker naps
# twice as long after each empty step, up to 2**_MAX_DOUBLINGS polls; a write committed in this
# process ends the nap at the next poll. Each step costs two transactions, so an idle server
# polled 5 times a second burnt ~2% of a core for nothing.
_MAX_DOUBLINGS = 3


class WebhookWorker:
    def __init__(
        self, database: Database, settings: Settings, resolver: Resolver | None = None
    ) -> None:
        self._database = database
        self._settings = settings
        self._sender = Sender(settings, resolver or SystemResolver())
        self._in_flight: Counter[uuid.UUID] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished = asyncio.Event()
        # Outcomes not yet written: each step writes them all in one transaction.
        self._outcomes: list[queue.Finished] = []
        self._idle = 0  # empty steps in a row, up to _MAX_DOUBLINGS

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._sender.close()

    async def step(self) -> int:
        """Writes the outcomes of finished attempts, derives new deliveries and starts the due
        ones; how many it started."""
        recorded = bool(self._outcomes)
        await self._record()
        derived = await outbox.derive_deliveries(self._database)
        free = self._settings.webhook_concurrency - len(self._tasks)
        if free <= 0:
            self._idle = 0
            return 0
        claimed = await queue.claim(
            self._database,
            limit=free,
            per_endpoint=self._settings.webhook_concurrency_per_endpoint,
            lease_seconds=self._settings.webhook_timeout_seconds * _LEASE_FACTOR,
            busy=list(self._in_flight),
        )
        for delivery in claimed:
            self._in_flight[delivery.endpoint_id] += 1
            task = asyncio.create_task(self._attempt(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        empty = not (recorded or derived or claimed or self._tasks)
        self._idle = min(self._idle + 1, _MAX_DOUBLINGS) if empty else 0
        return len(claimed)

    async def run(self) -> None:
        """Until cancelled: a step, then a nap until an attempt ends or WEBHOOK_POLL_SECONDS."""
        try:
            while True:
                self._finished.clear()  # before the step: an attempt ending during it wakes us
                await self.step()
                await self._nap()
        finally:
            await self.close()

    async def _nap(self) -> None:
        """Until WEBHOOK_POLL_SECONDS pass, or enough attempts ended to be worth a step: half
        the slots free (a step per ended attempt would cost more than the attempts)."""
        if self._idle:
            await self._idle_nap()
            return
        wanted = self._settings.webhook_concurrency // 2
        try:
            async with asyncio.timeout(self._settings.webhook_poll_seconds):
                while True:
                    await self._finished.wait()
                    if not self._tasks or len(self._outcomes) >= wanted:
                        return
                    self._finished.clear()
        except TimeoutError:
            pass

    async def _idle_nap(self) -> None:
        """Nothing in flight: up to 2**idle polls, ended early by a write committed in this
        process. (Another process's writes, and retries coming due, wait at most that long.)"""
        seen = self._database.writes
        for _ in range(2**self._idle):
            await asyncio.sleep(self._settings.webhook_poll_seconds)
            if self._database.writes != seen:
                return

    async def drain(self) -> None:
        """Steps until nothing is due, nothing runs and no outcome is left to write (tests,
        benchmarks). An attempt that ends during a step leaves its outcome, and its endpoint
        busy, for the next step: that step may then claim the endpoint's next deliveries."""
        while await self.step() or self._tasks or self._outcomes:
            if self._tasks:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)

    async def _record(self) -> None:
        finished, self._outcomes = self._outcomes, []
        if not finished:
            return
        settings = self._settings
        try:
            await queue.record(
                self._database,
                finished,
                settings.webhook_retry_schedule_seconds,
                settings.webhook_disable_after_seconds,
            )
        finally:
            for done in finished:
                self._release(done.claimed.endpoint_id)

    def _release(self, endpoint_id: uuid.UUID) -> None:
        self._in_flight[endpoint_id] -= 1
        if not self._in_flight[endpoint_id]:
            del self._in_flight[endpoint_id]

    async def _attempt(self, delivery: queue.Claimed) -> None:
        """Sends; the outcome is written by the next step. (An endpoint stays busy until then:
        its next deliveries wait for this one's outcome to be written.)"""
        try:
            outcome = await self._sender.send(delivery, self._database.clock())
        except Exception as error:  # a bug in sending must not stop the others
            logger.exception("webhooks: attempt of delivery %s failed", delivery.id)
            outcome = queue.Outcome(None, 0, f"internal error: {type(error).__name__}")
        jitter = random.uniform(0, 0.1)  # noqa: S311 (spreading retries, not a secret)
        self._outcomes.append(queue.Finished(delivery, outcome, jitter))
        self._finished.set()


async def run_webhook_worker(context: "JobContext") -> None:
    """The worker as a job loop (app.jobs.catalogue)."""
    await WebhookWorker(context.database, context.settings).run()
