"""PostgreSQL stopped for real (a throwaway cluster, `pg_ctl stop`) under open event streams:
every stream ends with `event: close` (`DATABASE_UNAVAILABLE`) and a clean end of the response,
and the server logs one line per cause, not a traceback per stream."""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import migrate_database
from tests.support.helpers import token_for
from tests.support.pg_cluster import PgCluster
from tests.sync.test_events import EventReader, Server, new_user, start_servers, stream

STREAMS = 8


@pytest.fixture
def server(cluster: PgCluster, tmp_path: Path) -> Iterator[Server]:
    asyncio.run(migrate_database(cluster.url))
    [started] = start_servers(tmp_path, cluster.url, 1)
    yield started
    started.stop()


async def close_event_of(events: EventReader) -> dict[str, str]:
    """Reads up to the `close` event, then checks that the response ends cleanly (the final
    chunk arrives: a dropped connection raises in httpx)."""
    while (event := await events.next()).name != "close":
        assert event.name in ("created", "updated", "deleted"), event
    assert await events.ended()
    data: dict[str, str] = event.data
    return data


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_streams_end_with_close_when_postgres_stops(
    cluster: PgCluster, server: Server, mode: str
) -> None:
    async with asyncio.TaskGroup() as group:
        opened = asyncio.Semaphore(0)

        async def hold_a_stream() -> dict[str, str]:
            async with stream(server, token_for(new_user())) as events:
                assert (await events.next()).name == "ready"
                opened.release()
                return await close_event_of(events)

        closes = [group.create_task(hold_a_stream()) for _ in range(STREAMS)]
        for _ in range(STREAMS):
            await asyncio.wait_for(opened.acquire(), 20)
        await asyncio.to_thread(cluster.stop, mode)

    for close in closes:
        assert close.result() == {
            "error_code": "DATABASE_UNAVAILABLE",
            "detail": "The database is unavailable; try again shortly",
        }
    log = server.log.read_text()
    assert "Traceback" not in log, log
    assert "Exception in ASGI application" not in log, log
    reports = re.findall(r"event streams ended: database unavailable \((.*?)\)", log)
    assert reports, log
    assert len(reports) == len(set(reports)), log  # one line per cause
