"""Forgetting what sync keeps only for a while: idempotency keys and events
(tombstones among them, after TOMBSTONE_RETENTION_SECONDS). A periodic job
(app.jobs) does it, once per SYNC_PURGE_SCHEDULE tick across all processes."""

from datetime import datetime, timedelta

from app.config import Settings
from app.db.database import Database
from app.idempotency import repository as idempotency
from app.jobs.base import JobContext
from app.sync import repository as sync


async def purge_expired(
    database: Database, settings: Settings, now: datetime | None = None
) -> None:
    now = now or database.clock()
    keys_cutoff = now - timedelta(seconds=settings.idempotency_key_retention_seconds)
    tombstones_cutoff = now - timedelta(seconds=settings.tombstone_retention_seconds)
    async with database.transaction() as connection:
        await idempotency.purge(connection, keys_cutoff)
        await sync.purge_events(connection, tombstones_cutoff)


async def purge_expired_job(context: JobContext) -> None:
    await purge_expired(context.database, context.settings)
