"""HEAD wherever GET works (uptime checks use it), and a 405 whose `Allow` names every method
of the path. Both are checked on every path of the OpenAPI document and on the docs pages,
so a route added later is covered without a new test."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.support.helpers import ALICE, all_rows, assert_error, auth, make_settings, make_task
from tests.webhooks.helpers import PUBLIC, StubResolver, create_webhook

DOCUMENT: dict[str, Any] = create_app(make_settings()).openapi()
DOCS_PAGES = ["/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"]
# Streams never end, so no GET of theirs completes to compare with: HEAD is checked alone.
STREAMS = ["/api/tasks/events", "/api/events"]
GET_PATHS = [
    path for path, methods in DOCUMENT["paths"].items() if "get" in methods and path not in STREAMS
]
# Headers that may differ between two answers to the same request.
# Differ between any two requests: the remaining quota counts down, each request has its own id.
VARYING = {"date", "server", "ratelimit", "x-request-id"}


def allow_of(path: str) -> str:
    methods = {method.upper() for method in DOCUMENT["paths"][path]}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def comparable(headers: httpx.Headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in VARYING}


async def url_of(app: FastAPI, path: str, client: httpx.AsyncClient) -> str:
    if "{webhook_id}" in path:
        app.state.webhook_resolver = StubResolver({"hooks.example": [PUBLIC]})
        hook = await create_webhook(client)
        return path.format(webhook_id=hook["id"], delivery_id=uuid.uuid4())
    if "{list_id}" in path:
        created = await client.post("/api/lists", json={"name": "a list"}, headers=auth(ALICE))
        return path.format(list_id=created.json()["id"])
    if "{task_id}" not in path:
        return path
    task = await make_task(app, ALICE)
    return path.format(task_id=task.id)


@pytest.mark.parametrize("path", GET_PATHS + DOCS_PAGES)
async def test_head_answers_like_get_without_a_body(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    url = await url_of(app, path, client)
    before = await all_rows(app)

    got = await client.get(url, headers=auth(ALICE))
    head = await client.head(url, headers=auth(ALICE))

    assert got.status_code == 200, got.text
    assert head.status_code == 200
    assert head.content == b""
    assert comparable(head.headers) == comparable(got.headers)
    assert await all_rows(app) == before


@pytest.mark.parametrize("path", STREAMS)
async def test_head_of_a_stream_answers_its_headers_and_ends(
    client: httpx.AsyncClient, path: str
) -> None:
    head = await client.head(path, headers=auth(ALICE))

    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""


async def test_head_without_a_token_is_the_same_401(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/tasks")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.content == b""


@pytest.mark.parametrize("path", list(DOCUMENT["paths"]))
@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE"])
async def test_405_allow_names_every_method_of_the_path(
    app: FastAPI, client: httpx.AsyncClient, path: str, method: str
) -> None:
    url = await url_of(app, path, client)
    before = await all_rows(app)

    response = await client.request(method, url, headers=auth(ALICE))

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allow_of(path)
    assert await all_rows(app) == before


def test_the_document_has_the_paths_these_tests_walk() -> None:
    assert allow_of("/api/tasks") == "GET, HEAD, POST"
    assert allow_of("/api/tasks/{task_id}") == "DELETE, GET, HEAD, PUT"
    assert allow_of("/health") == "GET, HEAD"


async def test_a_trailing_slash_is_a_404_not_a_redirect_built_from_host(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # Starlette's slash redirect put the client's Host header in Location.
    response = await client.post(
        "/api/tasks/", json={"title": "slash"}, headers={**auth(ALICE), "Host": "evil.example"}
    )

    assert_error(response, 404, "NOT_FOUND")
    assert "location" not in response.headers
    assert await all_rows(app) == []
