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

from app.config import Settings
from app.db.database import Database
from app.jobs.base import JobContext
from app.webhooks import outbox, queue
from app.webhooks.sender import Sender
from app.webhooks.ssrf import Resolver, SystemResolver

logger = logging.getLogger("taskapi.webhooks")
# A claim's lease: twice the longest an attempt may take (WEBHOOK_TIMEOUT_SECONDS).
_LEASE_FACTOR = 2


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

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._sender.close()

    async def step(self) -> int:
        """Derives new deliveries and starts the due ones; how many it started."""
        await outbox.derive_deliveries(self._database)
        free = self._settings.webhook_concurrency - len(self._tasks)
        if free <= 0:
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
        return len(claimed)

    async def run(self) -> None:
        """Until cancelled: a step, then a nap until an attempt ends or WEBHOOK_POLL_SECONDS."""
        try:
            while True:
                await self.step()
                self._finished.clear()
                try:
                    async with asyncio.timeout(self._settings.webhook_poll_seconds):
                        await self._finished.wait()
                except TimeoutError:
                    pass
        finally:
            await self.close()

    async def drain(self) -> None:
        """Steps until nothing is due and nothing runs (tests, benchmarks)."""
        while await self.step() or self._tasks:
            if self._tasks:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)

    async def _attempt(self, delivery: queue.Claimed) -> None:
        try:
            outcome = await self._sender.send(delivery, self._database.clock())
            settings = self._settings
            await queue.record(
                self._database,
                delivery,
                outcome,
                settings.webhook_retry_schedule_seconds,
                settings.webhook_disable_after_seconds,
                jitter=random.uniform(0, 0.1),  # noqa: S311 (spreading retries, not a secret)
            )
        except Exception:  # one delivery's failure must not stop the others; its lease ends
            logger.exception("webhooks: attempt of delivery %s failed", delivery.id)
        finally:
            self._in_flight[delivery.endpoint_id] -= 1
            if not self._in_flight[delivery.endpoint_id]:
                del self._in_flight[delivery.endpoint_id]
            self._finished.set()


async def run_webhook_worker(context: JobContext) -> None:
    """The worker as a job loop (app.jobs.catalogue)."""
    await WebhookWorker(context.database, context.settings).run()
