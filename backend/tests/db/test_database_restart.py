"""PostgreSQL stopped and started under load, for real (a throwaway cluster): every request
answers 2xx or 503 DATABASE_UNAVAILABLE (never a 500), /health included, and the app recovers
by itself once the server is back."""

import asyncio
import time
from collections import Counter

import httpx

from tests.conftest import migrate_database
from tests.support.helpers import ALICE, auth, make_settings, running_app
from tests.support.pg_cluster import PgCluster


async def hammer(client: httpx.AsyncClient, until: float, statuses: Counter[int]) -> None:
    """One client's loop: create, list, health, as fast as answers come."""
    requests = [
        ("POST", "/api/tasks", {"title": "during a restart"}),
        ("GET", "/api/tasks?limit=5", None),
        ("GET", "/health", None),
    ]
    n = 0
    while time.monotonic() < until:
        method, path, body = requests[n % len(requests)]
        n += 1
        response = await client.request(method, path, json=body, headers=auth(ALICE))
        statuses[response.status_code] += 1
        if response.status_code == 503:
            assert response.json()["error_code"] == "DATABASE_UNAVAILABLE", response.text
            assert response.headers["retry-after"]
        else:
            assert response.status_code in (200, 201), response.text
        await asyncio.sleep(0.005)


async def test_a_restart_under_load_gives_503s_then_recovers(cluster: PgCluster) -> None:
    await migrate_database(cluster.url)
    settings = make_settings(database_url=cluster.url, db_ping_after_idle_seconds=0.5)
    async with running_app(settings) as (_, client):
        statuses: Counter[int] = Counter()
        until = time.monotonic() + 4
        clients = [asyncio.create_task(hammer(client, until, statuses)) for _ in range(8)]
        await asyncio.sleep(0.8)
        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(cluster.start)
        await asyncio.gather(*clients)

        assert statuses[503] > 0, statuses  # the outage was seen...
        assert set(statuses) <= {200, 201, 503}, statuses  # ...and never as a 500

        # Back: within a few seconds every request works again, without a restart of the app.
        deadline = time.monotonic() + 5
        while (await client.get("/health")).status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover"
            await asyncio.sleep(0.1)
        listed = await client.get("/api/tasks", headers=auth(ALICE))
        assert listed.status_code == 200, listed.text
