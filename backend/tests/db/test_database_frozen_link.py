"""A link to PostgreSQL that stops carrying bytes (a frozen TCP proxy, not a closed one): every
request is still answered, with 503, within the documented bound (pool wait + connect timeout
+ statement timeout), and the app works again once the link thaws. PostgreSQL only: SQLite
has no link."""

import asyncio

import httpx
from sqlalchemy.engine import make_url

from tests.support.helpers import ALICE, all_tasks, auth, create_task, make_settings, running_app
from tests.support.tcp_proxy import TcpProxy

BOUNDS = {
    "db_pool_size": 3,
    "db_pool_timeout_seconds": 1,
    "db_connect_timeout_seconds": 1,
    "db_statement_timeout_seconds": 1,
    "db_ping_after_idle_seconds": 0,  # ping at every checkout: the ping must be bounded too
}
# Far above the bound under test (~3 s), far below asyncpg's own 60 s connect timeout: a
# request that waits for the thaw fails the test instead of hanging it.
HANG_GUARD_SECONDS = 20


def through(proxy: TcpProxy, postgres_url: str) -> str:
    url = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


async def test_a_frozen_link_is_answered_with_503_within_the_bound(
    postgres_url: str, proxy: TcpProxy
) -> None:
    settings = make_settings(database_url=through(proxy, postgres_url), **BOUNDS)
    async with running_app(settings) as (app, client):
        task = await create_task(client, title="before")  # one pooled connection, warm

        proxy.freeze()
        try:
            # More requests than the pool: the warm connection's ping gets no answer, the
            # others open new connections over the frozen link, the rest wait for a slot.
            requests = [client.get("/api/tasks", headers=auth(ALICE)) for _ in range(5)]
            answers = await asyncio.wait_for(asyncio.gather(*requests), HANG_GUARD_SECONDS)
        finally:
            proxy.thaw()

        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error_code"] in ("DATABASE_UNAVAILABLE", "DATABASE_BUSY")
            assert answer.headers["retry-after"]

        recovered = await asyncio.wait_for(
            client.get(f"/api/tasks/{task['id']}", headers=auth(ALICE)), HANG_GUARD_SECONDS
        )
        assert recovered.status_code == 200, recovered.text
        assert [stored.title for stored in await all_tasks(app)] == ["before"]


async def test_a_connect_timeout_in_the_url_wins_over_the_setting(
    postgres_url: str, proxy: TcpProxy
) -> None:
    """`?connect_timeout=1` (libpq's spelling, as providers print URLs) with a setting of 60 s:
    the URL's value bounds the wait."""
    url = through(proxy, postgres_url) + "?connect_timeout=1"
    settings = make_settings(database_url=url, **{**BOUNDS, "db_connect_timeout_seconds": 60})
    async with running_app(settings) as (_, client):
        proxy.freeze()
        try:
            answer = await asyncio.wait_for(
                client.get("/api/tasks", headers=auth(ALICE)), HANG_GUARD_SECONDS
            )
        finally:
            proxy.thaw()
        assert answer.status_code == 503, answer.text
        assert answer.json()["error_code"] == "DATABASE_UNAVAILABLE"


async def test_the_health_check_is_bounded_too(postgres_url: str, proxy: TcpProxy) -> None:
    settings = make_settings(database_url=through(proxy, postgres_url), **BOUNDS)
    async with running_app(settings) as (_, client):
        proxy.freeze()
        try:
            answer: httpx.Response = await asyncio.wait_for(
                client.get("/health"), HANG_GUARD_SECONDS
            )
        finally:
            proxy.thaw()
        assert answer.status_code == 503, answer.text
