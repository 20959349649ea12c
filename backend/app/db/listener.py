"""PostgreSQL: one connection per server process that LISTENs for the changes of every process
and NOTIFYs those of this one.

Writes do not NOTIFY themselves: PostgreSQL serialises the commits of transactions that NOTIFY
(a database-wide lock held through the commit's WAL flush), which took write throughput from
hundreds of requests a second to dozens. Instead a write, once committed, puts its user in
the feed's outbox, and this connection sends the outbox as one NOTIFY (a JSON list of user
ids, or "*" for everyone when the outbox overflowed) as soon as the previous one is out.
Every process, this one included, wakes the streams of those users, which read their delta.

The connection is direct, outside the pool: behind PgBouncer in transaction mode LISTEN does
not work, so DATABASE_LISTEN_URL may name the direct host. If it drops, notifications are lost
meanwhile: on reconnecting it wakes every stream of this process, and every stream also
re-reads its delta at each heartbeat, so a lost notification delays a change, never loses it.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from app.config import Settings
from app.db.database import resolve_database_url
from app.db.feed import CHANNEL, EVERYONE, ChangeFeed

logger = logging.getLogger("taskapi.sync")
_RETRY_SECONDS = (0.5, 1, 2, 5)
_PING_TIMEOUT_SECONDS = 5
_MAX_PAYLOAD_BYTES = 7000  # PostgreSQL's limit is 8000
APPLICATION_NAME = "taskapi-listener"  # how its connection shows in pg_stat_activity


@asynccontextmanager
async def listening(settings: Settings, feed: ChangeFeed) -> AsyncIterator[None]:
    """Runs the listener for the block (PostgreSQL only; SQLite's writes wake streams directly)."""
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
        "timeout": settings.db_connect_timeout_seconds,
        **{
            key: target.connect_args[key]
            for key in ("ssl", "timeout")
            if key in target.connect_args
        },
    }
    feed.outbox = set()
    task = asyncio.create_task(_listen(dsn, options, feed, settings.sse_heartbeat_seconds))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        feed.outbox = None


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
            one_at_a_time = asyncio.Lock()  # an asyncpg connection runs one query at a time
            sending = asyncio.create_task(_send_outbox(connection, one_at_a_time, feed))
            try:
                await _until_lost(connection, one_at_a_time, ping_seconds)
            finally:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
            logger.warning("the LISTEN connection was lost; reconnecting")
        finally:
            connection.terminate()


async def _send_outbox(
    connection: asyncpg.Connection, one_at_a_time: asyncio.Lock, feed: ChangeFeed
) -> None:
    """One NOTIFY for all the users written since the last one (several if the list is long)."""
    assert feed.outbox is not None
    while True:
        await feed.outbox_ready.wait()
        feed.outbox_ready.clear()
        users = feed.take_outbox()
        try:
            for payload in [orjson.dumps(EVERYONE).decode()] if users is None else _payloads(users):
                async with one_at_a_time:
                    await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return  # the connection is going; the next one wakes every stream


def _payloads(users: list[str]) -> list[str]:
    payloads: list[str] = []
    batch: list[str] = []
    size = 2  # the brackets
    for user in users:
        encoded = len(orjson.dumps(user)) + 1
        if batch and size + encoded > _MAX_PAYLOAD_BYTES:
            payloads.append(orjson.dumps(batch).decode())
            batch, size = [], 2
        batch.append(user)
        size += encoded
    if batch:
        payloads.append(orjson.dumps(batch).decode())
    return payloads


def _notified(feed: ChangeFeed, payload: str) -> None:
    try:
        users = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return  # not ours
    if users == EVERYONE:
        feed.wake_all()
    elif isinstance(users, list):
        for user in users:
            if isinstance(user, str):
                feed.changed(user)


async def _until_lost(
    connection: asyncpg.Connection, one_at_a_time: asyncio.Lock, ping_seconds: float
) -> None:
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
            async with one_at_a_time, asyncio.timeout(_PING_TIMEOUT_SECONDS):
                await connection.execute("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return
