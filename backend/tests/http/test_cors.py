"""CORS as a browser frontend meets it: every header it sends passes the preflight, every
header it needs to read is exposed, and every response (a 500 included) carries the CORS and
security headers. Origins are normalised, and CORS being off is logged."""

import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from tests.support.helpers import ALICE, all_tasks, assert_error, auth, make_settings, running_app

FRONTEND = "http://127.0.0.1:3000"
CORS_ON = {"cors_allow_origins": [FRONTEND + "/"]}  # the trailing slash a person types

REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    "traceparent",
    "tracestate",
    "sentry-trace",
    "baggage",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Last-Event-ID",
    "MCP-Protocol-Version",
]
EXPOSED_HEADERS = {
    "link",
    "retry-after",
    "www-authenticate",
    "x-request-id",
    "etag",
    "location",
    "ratelimit",
    "ratelimit-policy",
    "idempotency-replayed",
}


def preflight(method: str, headers: str) -> dict[str, str]:
    return {
        "Origin": FRONTEND,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
@pytest.mark.parametrize("header", REQUEST_HEADERS)
async def test_preflight_allows_each_header_a_frontend_sends(
    app: FastAPI, client: httpx.AsyncClient, header: str
) -> None:
    response = await client.options("/api/tasks", headers=preflight("POST", header.lower()))

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == FRONTEND
    allowed = response.headers["access-control-allow-headers"].lower().split(", ")
    assert header.lower() in allowed
    assert await all_tasks(app) == []


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE"])
async def test_preflight_allows_each_method_of_the_api(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.options("/api/tasks/x", headers=preflight(method, "authorization"))

    assert response.status_code == 200, response.text
    assert method in response.headers["access-control-allow-methods"].split(", ")


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_page_scripts_can_read_the_headers_the_api_sends(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tasks", headers={"Origin": FRONTEND})

    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert response.headers["access-control-allow-origin"] == FRONTEND
    exposed = set(response.headers["access-control-expose-headers"].lower().split(", "))
    assert exposed == EXPOSED_HEADERS


async def _bug() -> None:
    raise RuntimeError("a bug")


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_a_500_carries_cors_and_security_headers_and_the_envelope(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.add_api_route("/api/bug", _bug)

    response = await client.get("/api/bug", headers={"Origin": FRONTEND, **auth(ALICE)})

    assert_error(response, 500, "INTERNAL_ERROR", "Internal server error")
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error on GET /api/bug"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    ("configured", "normalised"),
    [
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("HTTPS://App.Example.com", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://localhost:80/", "http://localhost"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_origins_are_normalised_to_what_a_browser_sends(configured: str, normalised: str) -> None:
    settings = make_settings(cors_allow_origins=f"{configured}, {configured}")

    assert settings.cors_allow_origins == [normalised]


@pytest.mark.parametrize(
    "configured",
    [
        "localhost:3000",
        "app.example.com",
        "*",
        "https://*.example.com",
        "https://app.example.com/app",
        "https://app.example.com?x=1",
        "ftp://app.example.com",
        "https://user@app.example.com",
        "http://localhost:99999",
    ],
)
def test_a_value_that_is_not_an_origin_is_refused(configured: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        make_settings(cors_allow_origins=configured)


def test_public_base_url_must_be_an_origin_too() -> None:
    assert make_settings(public_base_url="https://API.example.com/").public_base_url == (
        "https://api.example.com"
    )
    with pytest.raises(ValueError, match="is not an origin"):
        make_settings(public_base_url="https://api.example.com/v1")


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_a_normalised_origin_is_allowed(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/tasks", json={"title": "from the page"}, headers={"Origin": FRONTEND, **auth(ALICE)}
    )

    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert [task.title for task in await all_tasks(app)] == ["from the page"]


def app_settings(tmp_path: Path, **overrides: object) -> Settings:
    """For tests that need the app running but never touch a task."""
    database_url = f"sqlite+aiosqlite:///{tmp_path}/taskapi.db"
    return make_settings(database_url=database_url, auto_migrate=True, **overrides)


async def test_cors_off_is_logged_as_a_warning(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = app_settings(tmp_path)
    with caplog.at_level(logging.INFO, logger="taskapi"):
        async with running_app(settings) as (_, client):
            await client.get("/openapi.json")

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "CORS is off: no CORS_ALLOW_ORIGINS set, so browser pages on other origins "
        "cannot call this API"
    ]


async def test_cors_on_logs_the_allowed_origins(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    settings = app_settings(
        tmp_path, cors_allow_origins="https://a.example.com,http://localhost:3000/"
    )
    with caplog.at_level(logging.INFO, logger="taskapi"):
        async with running_app(settings) as (_, client):
            await client.get("/openapi.json")

    messages = [r.getMessage() for r in caplog.records if r.name == "taskapi"]
    assert messages == ["CORS allows https://a.example.com, http://localhost:3000"]
