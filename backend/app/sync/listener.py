"""PostgreSQL: one LISTEN connection per server process, turning the NOTIFY of every write (from
any process) into wake-ups of this process's event streams.

It is a direct asyncpg connection of its own, outside the pool: behind PgBouncer in transaction
mode LISTEN does not work, so DATABASE_LISTEN_URL may name the direct host. If the connection
drops, notifications sent meanwhile are lost: on reconnecting it wakes every stream, and each
re-reads its delta, so none misses a change.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from app.config import Settings
from app.database import resolve_database_url
from app.sync.feed import CHANNEL, ChangeFeed

logger = logging.getLogger("taskapi.sync")
_RETRY_SECONDS = (0.5, 1, 2, 5)
_PING_TIMEOUT_SECONDS = 5
APPLICATION_NAME = "taskapi-listener"  # how its connection shows in pg_stat_activity


@asynccontextmanager
async def listening(settings: Settings, feed: ChangeFeed) -> AsyncIterator[None]:
    """Runs the listener for the block (PostgreSQL only; SQLite's writes ring the feed)."""
    target = resolve_database_url(
        settings.database_listen_url or settings.database_url, settings.db_pooler
    )
    if target.is_sqlite:
        yield
        return
    if target.behind_pgbouncer:
        logger.warning(
            "LISTEN through PgBouncer in transaction mode loses notifications: set "
            "DATABASE_LISTEN_URL to the direct (non-pooler) host for live event streams"
        )
    dsn = target.url.set(drivername="postgresql").render_as_string(hide_password=False)
    options: dict[str, Any] = {
        key: target.connect_args[key] for key in ("ssl", "timeout") if key in target.connect_args
    }
    task = asyncio.create_task(_listen(dsn, options, feed, settings.sse_heartbeat_seconds))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _listen(dsn: str, options: dict[str, Any], feed: ChangeFeed, ping_seconds: float) -> None:
    failures = 0
    while True:
        try:
            connection = await asyncpg.connect(
                dsn, server_settings={"application_name": APPLICATION_NAME}, **options
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
            failures += 1
            logger.warning("cannot LISTEN for changes (%r); retrying in %ss", error, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        try:
            await connection.add_listener(CHANNEL, lambda *args: _notified(feed, args[-1]))
            feed.wake_all()  # whatever was sent while we were not listening
            await _until_lost(connection, ping_seconds)
            logger.warning("the LISTEN connection was lost; reconnecting")
        finally:
            connection.terminate()


def _notified(feed: ChangeFeed, payload: str) -> None:
    _seq, _, user_id = payload.partition(":")
    feed.changed(user_id)


async def _until_lost(connection: asyncpg.Connection, ping_seconds: float) -> None:
    """Returns when the connection closes or stops answering a ping."""
    closed = asyncio.Event()
    connection.add_termination_listener(lambda _connection: closed.set())
    while not closed.is_set():
        try:
            async with asyncio.timeout(ping_seconds):
                await closed.wait()
            return
        except TimeoutError:
            pass
        try:
            async with asyncio.timeout(_PING_TIMEOUT_SECONDS):
                await connection.execute("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return
