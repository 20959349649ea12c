"""PostgreSQL's listener: a committed write's user reaches the streams of every process (one
NOTIFY per batch, not per write), and a lost connection is replaced, waking every stream so
each re-reads what it may have missed."""

import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.feed import CHANNEL, MAX_OUTBOX, ChangeFeed, Subscription
from app.db.listener import APPLICATION_NAME, _payloads, listening
from tests.support.helpers import make_settings

GUARD_SECONDS = 20  # only so that a broken listener fails the test instead of hanging it
NOTIFY = text("SELECT pg_notify(:channel, :payload)")


async def woken(subscription: Subscription) -> bool:
    return await subscription.wait(GUARD_SECONDS)


def feed() -> ChangeFeed:
    return ChangeFeed(max_per_user=5, max_total=5)


async def test_a_write_in_one_process_wakes_the_users_streams_in_another(
    postgres_url: str,
) -> None:
    writer, reader = feed(), feed()
    alice, bob = reader.subscribe("alice"), reader.subscribe("bob")
    settings = make_settings(database_url=postgres_url)
    async with listening(settings, writer), listening(settings, reader):
        assert await woken(alice)  # connected: every stream re-reads once
        assert await woken(bob)

        writer.written("alice")
        assert await woken(alice)
        writer.written("bob")
        assert await woken(bob)  # notifications arrive in order: alice's was handled before
        assert not await alice.wait(0)  # ... and woke only alice


async def test_a_full_outbox_wakes_every_stream_instead_of_dropping_a_name(
    postgres_url: str,
) -> None:
    writer, reader = feed(), feed()
    bob, carol = reader.subscribe("bob"), reader.subscribe("carol")
    settings = make_settings(database_url=postgres_url)
    async with listening(settings, writer), listening(settings, reader):
        assert await woken(bob)  # connected
        assert await woken(carol)

        # No await in between: the listener cannot send, so the outbox fills up.
        for number in range(MAX_OUTBOX):
            writer.written(f"user-{number}")
        writer.written("bob")  # one name too many

        assert writer.overflows == 1
        assert await woken(bob)  # not dropped: everyone is woken, and re-reads
        assert await woken(carol)
        writer.written("carol")  # the outbox names users again
        assert await woken(carol)
        assert not await bob.wait(0)
        assert writer.overflows == 1


async def test_a_lost_connection_is_replaced_and_wakes_every_stream(postgres_url: str) -> None:
    here = feed()
    subscription = here.subscribe("alice")
    engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        async with (
            listening(make_settings(database_url=postgres_url), here),
            engine.connect() as db,
        ):
            assert await woken(subscription)
            terminated = await db.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
            assert terminated >= 1  # ours (and any other test's listener on this database)
            assert await woken(subscription)  # reconnected: notifications may have been lost

            here.written("alice")
            assert await woken(subscription)
    finally:
        subscription.close()
        await engine.dispose()


@pytest.mark.parametrize("payload", ['["alice-not"]', "alice", "garbage", "", '{"a": 1}', "[1]"])
async def test_a_notification_for_someone_else_wakes_nobody_else(
    postgres_url: str, payload: str
) -> None:
    here = feed()
    alice, bob = here.subscribe("alice"), here.subscribe("bob")
    engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        async with (
            listening(make_settings(database_url=postgres_url), here),
            engine.connect() as db,
        ):
            assert await woken(alice)
            assert await woken(bob)

            await db.execute(NOTIFY, {"channel": CHANNEL, "payload": payload})
            await db.execute(NOTIFY, {"channel": CHANNEL, "payload": '["bob"]'})
            assert await woken(bob)  # in order: once bob's is here, the first one was handled
            assert not await alice.wait(0)
    finally:
        alice.close()
        bob.close()
        await engine.dispose()


def test_a_long_outbox_is_split_into_notifications_postgresql_accepts() -> None:
    users = [f"user-{number:05}-{'x' * 200}" for number in range(200)]

    payloads = _payloads(users)

    assert len(payloads) > 1
    assert all(len(payload.encode()) < 8000 for payload in payloads)
    assert [user for payload in payloads for user in json.loads(payload)] == users
