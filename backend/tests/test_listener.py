"""PostgreSQL's LISTEN connection: a NOTIFY wakes the user's streams, and a lost connection is
replaced, waking every stream so each re-reads what it may have missed."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.sync.feed import CHANNEL, ChangeFeed, Subscription
from app.sync.listener import APPLICATION_NAME, listening
from tests.helpers import make_settings

GUARD_SECONDS = 20  # only so that a broken listener fails the test instead of hanging it


async def woken(subscription: Subscription) -> bool:
    return await subscription.wait(GUARD_SECONDS)


async def test_notify_wakes_and_a_lost_connection_is_replaced(postgres_url: str) -> None:
    feed = ChangeFeed(max_per_user=5, max_total=5)
    subscription = feed.subscribe("alice")
    engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        async with (
            listening(make_settings(database_url=postgres_url), feed),
            engine.connect() as db,
        ):
            assert await woken(subscription)  # connected: every stream re-reads once

            await db.execute(text("SELECT pg_notify(:channel, '7:alice')"), {"channel": CHANNEL})
            assert await woken(subscription)

            terminated = await db.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": APPLICATION_NAME},
            )
            assert terminated == 1
            assert await woken(subscription)  # reconnected: notifications may have been lost

            await db.execute(text("SELECT pg_notify(:channel, '8:alice')"), {"channel": CHANNEL})
            assert await woken(subscription)
    finally:
        subscription.close()
        await engine.dispose()


@pytest.mark.parametrize("payload", ["8:alice-not", "alice", "garbage", ""])
async def test_a_notification_for_someone_else_wakes_nobody_else(
    postgres_url: str, payload: str
) -> None:
    feed = ChangeFeed(max_per_user=5, max_total=5)
    alice, bob = feed.subscribe("alice"), feed.subscribe("bob")
    engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    notify = text("SELECT pg_notify(:channel, :payload)")
    try:
        async with (
            listening(make_settings(database_url=postgres_url), feed),
            engine.connect() as db,
        ):
            assert await woken(alice)
            assert await woken(bob)

            await db.execute(notify, {"channel": CHANNEL, "payload": payload})
            await db.execute(notify, {"channel": CHANNEL, "payload": "9:bob"})
            # Notifications arrive in order: once bob's has, the first one was handled too.
            assert await woken(bob)
            assert not await alice.wait(0)
    finally:
        alice.close()
        bob.close()
        await engine.dispose()
