"""Forgetting what sync keeps only for a while: idempotency keys and tombstones. A background
task of each server process does it at an interval; nobody has to set up a cron job."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from app.config import Settings
from app.db.database import Database
from app.idempotency import repository as idempotency
from app.sync import repository as sync

logger = logging.getLogger("taskapi.sync")


async def purge_expired(
    database: Database, settings: Settings, now: datetime | None = None
) -> None:
    now = now or database.clock()
    keys_cutoff = now - timedelta(seconds=settings.idempotency_key_retention_seconds)
    tombstones_cutoff = now - timedelta(seconds=settings.tombstone_retention_seconds)
    async with database.transaction() as connection:
        await idempotency.purge(connection, keys_cutoff)
        await sync.purge_tombstones(connection, tombstones_cutoff)


@asynccontextmanager
async def purging_in_background(database: Database, settings: Settings) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.sync_purge_interval_seconds)
            try:
                await purge_expired(database, settings)
            except Exception:  # a database outage must not end the loop; the next round retries
                logger.exception("purging expired idempotency keys and tombstones failed")

    task = asyncio.create_task(loop(), name="taskapi-sync-purge")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
