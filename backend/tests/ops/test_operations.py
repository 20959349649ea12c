"""What operators probe and scrape: liveness, readiness, /health as before, and Prometheus
metrics (off by default, behind METRICS_TOKEN when on)."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.http.metrics import MeasureRequests
from tests.auth.test_jwks import jwks_settings
from tests.conftest import StartApp
from tests.support.helpers import (
    ALICE,
    all_rows,
    assert_error,
    auth,
    bearer,
    create_task,
    free_port,
    make_settings,
    running_app,
)
from tests.support.tcp_proxy import TcpProxy

METRICS_TOKEN = "metrics-token-that-is-long-enough-0123456789"


async def test_live_and_ready_answer_ok(client: httpx.AsyncClient) -> None:
    for path in ("/health/live", "/health/ready", "/health"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.json() == {"status": "ok"}


@pytest.fixture
async def proxied_postgres(postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    await proxy.cut()


async def test_with_the_database_down_live_is_ok_and_ready_is_503(
    proxied_postgres: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied_postgres
    async with running_app(make_settings(database_url=url)) as (_, client):
        await proxy.cut()
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        health = await client.get("/health")
        await proxy.start()

    assert live.status_code == 200
    assert_error(ready, 503, "DATABASE_UNAVAILABLE")
    assert ready.headers["Retry-After"] == "2"
    assert_error(health, 503, "DATABASE_UNAVAILABLE")


async def test_without_signing_keys_ready_is_503_and_live_is_ok(start_app: StartApp) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/api/auth/jwks"
    async with start_app(**jwks_settings(unreachable, auth_jwks_timeout_seconds=1)) as (_, client):
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        health = await client.get("/health")

    assert live.status_code == 200
    assert_error(ready, 503, "AUTH_UNAVAILABLE")
    assert "signing keys" in ready.json()["detail"]
    assert health.status_code == 200  # as before: /health checks the database only


# --- metrics --------------------------------------------------------------------------------


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name:
            found = ",".join(sorted((match[2] or "").split(","))) if match[2] else ""
            if found == wanted:
                return float(match[3])
    return 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


async def test_metrics_are_off_by_default(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))

    assert_error(response, 404, "NOT_FOUND")
    installed: list[object] = [middleware.cls for middleware in app.user_middleware]
    assert MeasureRequests not in installed


async def test_metrics_need_the_metrics_token(start_app: StartApp) -> None:
    async with start_app(metrics_token=METRICS_TOKEN) as (_, client):
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers=bearer(METRICS_TOKEN + "x"))
        user_token = await client.get("/metrics", headers=auth(ALICE))

    assert_error(missing, 401, "NOT_AUTHENTICATED")
    assert_error(wrong, 401, "INVALID_TOKEN")
    assert_error(user_token, 401, "INVALID_TOKEN")


async def test_metrics_count_requests_by_route_and_status(start_app: StartApp) -> None:
    async with start_app(metrics_token=METRICS_TOKEN) as (app, client):
        await create_task(client)
        await create_task(client)
        await client.get("/api/tasks/not-a-uuid", headers=auth(ALICE))
        await client.get("/no/such/path")
        text = await scrape(client)
        rows = await all_rows(app)

    assert len(rows) == 2
    created = {"method": "POST", "route": "/api/tasks", "status": "201"}
    assert metric(text, "taskapi_http_requests_total", **created) == 2
    by_id = {"method": "GET", "route": "/api/tasks/{task_id}", "status": "404"}
    assert metric(text, "taskapi_http_requests_total", **by_id) == 1
    unrouted = {"method": "GET", "route": "unrouted", "status": "404"}
    assert metric(text, "taskapi_http_requests_total", **unrouted) == 1
    latency = {"method": "POST", "route": "/api/tasks"}
    assert metric(text, "taskapi_http_request_duration_seconds_count", **latency) == 2
    assert metric(text, "taskapi_http_request_duration_seconds_bucket", le="+Inf", **latency) == 2
    assert metric(text, "taskapi_db_connections_in_use") == 0
    assert metric(text, "taskapi_db_connections_max") >= 1
    assert metric(text, "taskapi_feed_overflows_total") == 0


async def test_metrics_count_jwks_fetches(start_app: StartApp) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/api/auth/jwks"
    settings = jwks_settings(unreachable, auth_jwks_timeout_seconds=1)
    async with start_app(metrics_token=METRICS_TOKEN, **settings) as (_, client):
        text = await scrape(client)

    assert metric(text, "taskapi_jwks_fetches_total", outcome="error") == 1
    assert metric(text, "taskapi_jwks_fetches_total", outcome="ok") == 0
