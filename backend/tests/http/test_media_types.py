"""A body must be labelled JSON: anything else is a 415 that names what was sent (a browser's
`fetch` labels a string body `text/plain`), and nothing is written. A 204 has no Content-Type."""

import httpx
import pytest
from fastapi import FastAPI

from tests.support.helpers import ALICE, all_rows, assert_error, auth, create_task

NOT_JSON = [
    pytest.param("text/plain;charset=UTF-8", id="fetch-string-body"),
    pytest.param("application/x-www-form-urlencoded", id="form"),
    pytest.param("multipart/form-data; boundary=x", id="multipart"),
    pytest.param("application/xml", id="xml"),
    pytest.param("application/jsonp", id="json-lookalike"),
]
BODY = b'{"title": "labelled wrongly"}'


@pytest.mark.parametrize("content_type", NOT_JSON)
async def test_create_with_a_body_not_labelled_json_is_415(
    app: FastAPI, client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/api/tasks", content=BODY, headers={**auth(ALICE), "Content-Type": content_type}
    )

    assert_error(
        response,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        f"Content-Type {content_type!r} is not supported: send JSON, with "
        "'Content-Type: application/json'",
    )
    assert await all_rows(app) == []


async def test_a_body_without_content_type_is_415(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tasks", content=BODY, headers=auth(ALICE))

    assert_error(
        response,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "The body has no Content-Type: send JSON, with 'Content-Type: application/json'",
    )
    assert await all_rows(app) == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON"],
)
async def test_json_with_any_spelling_of_its_type_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/api/tasks", content=BODY, headers={**auth(ALICE), "Content-Type": content_type}
    )

    assert response.status_code == 201, response.text
    assert [row["title"] for row in await all_rows(app)] == ["labelled wrongly"]


async def test_an_empty_body_is_still_the_validation_error(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/tasks", headers={**auth(ALICE), "Content-Type": "text/plain"}
    )

    assert_error(response, 400, "VALIDATION_ERROR", "A JSON object is required")
    assert await all_rows(app) == []


async def test_204_has_no_content_type(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await create_task(client)

    response = await client.delete(f"/api/tasks/{task['id']}", headers=auth(ALICE))

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers
    assert await all_rows(app) == []
