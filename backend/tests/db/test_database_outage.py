"""PostgreSQL going away while the app runs: 503 DATABASE_UNAVAILABLE, never a 500, and
recovery without a restart once it is back. (SQLite is a file in the process: it has no outage
to simulate, so this runs on PostgreSQL only.)"""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from tests.support.helpers import (
    ALICE,
    all_tasks,
    auth,
    delete_all_tasks,
    make_settings,
    running_app,
)
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def proxied(
    postgres_url: str, proxy: TcpProxy
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    url = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    settings = make_settings(
        database_url=url.render_as_string(hide_password=False), db_pool_timeout_seconds=2
    )
    async with running_app(settings) as started:
        await delete_all_tasks(started[0])  # the PostgreSQL test database is shared
        yield started


async def test_outage_answers_503_and_recovers(
    proxied: tuple[FastAPI, httpx.AsyncClient], proxy: TcpProxy
) -> None:
    proxied_app, proxied_client = proxied
    before = await proxied_client.post("/api/tasks", json={"title": "before"}, headers=auth(ALICE))
    assert before.status_code == 201

    await proxy.cut()
    for method, path in [("GET", "/api/tasks"), ("POST", "/api/tasks"), ("GET", "/health")]:
        body = {"title": "during"} if method == "POST" else None
        response = await proxied_client.request(method, path, json=body, headers=auth(ALICE))
        assert response.status_code == 503, (method, path, response.text)
        assert response.json() == {
            "detail": "The database is unavailable; try again shortly",
            "error_code": "DATABASE_UNAVAILABLE",
            "status_code": 503,
        }
        assert response.headers["retry-after"] == "2"

    await proxy.start()  # same port: the pool reconnects on its own
    after = await proxied_client.get("/api/tasks", headers=auth(ALICE))
    assert after.status_code == 200
    assert [task["title"] for task in after.json()] == ["before"]
    assert [task.title for task in await all_tasks(proxied_app)] == ["before"]
