"""Bad input through the whole stack, on both databases: a 400 (413 if too big) with the exact
envelope, and nothing written. (The field rules themselves are unit-tested, with every exact
detail, in tests/tasks/test_schemas.py.)

Bodies that must reach the server as exact JSON text (lone surrogates, broken JSON) are sent
as raw bytes with `content=`, since httpx's `json=` would re-encode or refuse them.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.models import Task
from tests.support.helpers import (
    ALICE,
    JSON,
    LONGEST_TITLES,
    all_rows,
    all_tasks,
    assert_error,
    auth,
    make_task,
    put_raw,
    stored_task,
)

MAX_BODY_BYTES = 64 * 1024
NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"
NOT_JSON = "Request body is not valid JSON"
NUL_OR_SURROGATE = "must not contain NUL characters or unpaired surrogates"


async def post_json(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post("/api/tasks", json=body, headers=auth(ALICE))


async def post_raw(
    client: httpx.AsyncClient, content: bytes, content_type: str | None = "application/json"
) -> httpx.Response:
    headers = auth(ALICE)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await client.post("/api/tasks", content=content, headers=headers)


async def existing_task(app: FastAPI) -> Task:
    return await make_task(app, ALICE, title="keep me", description="as I am")


# --- POST: values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        pytest.param(
            b'{"title": "  "}', "title: String should have at least 1 character", id="title-blank"
        ),
        pytest.param(b'{"title": "x", "user_id": "bob"}', "user_id: unknown field", id="user_id"),
        pytest.param(
            b'{"title": "x", "is_completed": "yes"}',
            "is_completed: Input should be a valid boolean",
            id="string-boolean",
        ),
        pytest.param(b'{"title": "a\\u0000b"}', f"title: {NUL_OR_SURROGATE}", id="nul"),
        pytest.param(b'{"title": "\\ud800"}', f"title: {NUL_OR_SURROGATE}", id="lone-surrogate"),
        pytest.param(
            b'{"title": "x", "\\ud800": 1}',
            "Input should be a valid string, unable to parse raw data as a unicode string",
            id="field-named-by-a-lone-surrogate",
        ),
    ],
)
async def test_create_refuses_invalid_field(
    app: FastAPI, client: httpx.AsyncClient, content: bytes, detail: str
) -> None:
    response = await post_raw(client, content)

    assert_error(response, 400, "VALIDATION_ERROR", detail)
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    "title",
    LONGEST_TITLES,
)
async def test_create_accepts_a_title_of_200_characters(
    app: FastAPI, client: httpx.AsyncClient, title: str
) -> None:
    response = await post_json(client, {"title": title})

    assert response.status_code == 201, response.text
    assert [task.title for task in await all_tasks(app)] == [title.strip()]


async def test_create_accepts_a_description_of_2000_characters(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    description = "😀" * 1000 + "a" * 1000

    response = await post_json(client, {"title": "x", "description": description})

    assert response.status_code == 201, response.text
    assert [task.description for task in await all_tasks(app)] == [description]


# --- POST: the body as a whole ------------------------------------------------------------


async def test_create_refuses_a_body_that_is_not_an_object(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for content in [b"[]", b'"x"', b"1", b"null", b'[{"title": "x"}]']:
        response = await post_raw(client, content)
        assert_error(response, 400, "VALIDATION_ERROR", NOT_AN_OBJECT)

    assert await all_tasks(app) == []


async def test_create_refuses_an_empty_body(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await post_raw(client, b"")

    assert_error(response, 400, "VALIDATION_ERROR", "A JSON object is required")
    assert await all_tasks(app) == []


MALFORMED_JSON = [
    b'{"title": ',
    b"{'title': 'x'}",
    b'{"title": "x",}',
    b'{"title": "x"} {}',
    b"title=x",
    b'{"title": "\\x41"}',
    b'{"title": "\\ud83d\\ude0"}',
]
# Not UTF-8, or too deep for Python's parser: FastAPI's own message, with the same code.
UNDECODABLE = [
    b'{"title": "caf\xe9"}',  # Latin-1
    b"[" * 20000,
    b"[" * 20000 + b"]" * 20000,
    b'{"a":' * 10000 + b"1" + b"}" * 10000,
]
PARSE_ERROR = "There was an error parsing the body"


async def test_create_refuses_malformed_json(app: FastAPI, client: httpx.AsyncClient) -> None:
    for content, detail in [(c, NOT_JSON) for c in MALFORMED_JSON] + [
        (c, PARSE_ERROR) for c in UNDECODABLE
    ]:
        assert len(content) < MAX_BODY_BYTES
        response = await post_raw(client, content)
        assert_error(response, 400, "MALFORMED_JSON", detail)

    assert await all_tasks(app) == []


async def test_create_stores_an_escaped_surrogate_pair_as_one_character(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await post_raw(client, b'{"title": "\\ud83d\\ude00 done"}')

    assert response.status_code == 201, response.text
    assert response.json()["title"] == "😀 done"
    assert [task.title for task in await all_tasks(app)] == ["😀 done"]


# --- POST: content types ------------------------------------------------------------------


async def test_create_refuses_a_form_encoded_body(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tasks", data={"title": "x"}, headers=auth(ALICE))

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", mentions=("x-www-form-urlencoded",))
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text-plain"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param(None, id="no-content-type"),
    ],
)
async def test_create_refuses_json_text_not_labelled_as_json(
    app: FastAPI, client: httpx.AsyncClient, content_type: str | None
) -> None:
    # A browser may send these cross-site without a preflight: they must never create a task.
    response = await post_raw(client, b'{"title": "x"}', content_type)

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.api+json"]
)
async def test_create_accepts_json_content_type_variants(
    app: FastAPI, client: httpx.AsyncClient, content_type: str
) -> None:
    response = await post_raw(client, b'{"title": "x"}', content_type)

    assert response.status_code == 201, response.text
    assert [task.title for task in await all_tasks(app)] == ["x"]


# --- body size ----------------------------------------------------------------------------


def body_of_size(size: int) -> bytes:
    """A JSON object of exactly `size` bytes whose title is far too long."""
    frame = b'{"title": ""}'
    return frame[:-2] + b"a" * (size - len(frame)) + frame[-2:]


async def test_create_refuses_a_body_over_the_limit(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await post_json(client, {"title": "x", "description": "a" * MAX_BODY_BYTES})

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await all_tasks(app) == []


async def test_update_refuses_a_body_over_the_limit(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await existing_task(app)
    before = await all_rows(app)

    response = await put_raw(client, ALICE, task.id, body_of_size(MAX_BODY_BYTES + 1))

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await all_rows(app) == before


async def test_body_one_byte_over_the_limit_is_413(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await post_raw(client, body_of_size(MAX_BODY_BYTES + 1))

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await all_tasks(app) == []


@pytest.mark.parametrize("size", [MAX_BODY_BYTES, MAX_BODY_BYTES - 1])
async def test_invalid_body_within_the_limit_is_400_not_413(
    app: FastAPI, client: httpx.AsyncClient, size: int
) -> None:
    response = await post_raw(client, body_of_size(size))

    assert_error(response, 400, "VALIDATION_ERROR", mentions=("title",))
    assert await all_tasks(app) == []


async def chunks(content: bytes, chunk_size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(content), chunk_size):
        yield content[start : start + chunk_size]


async def test_chunked_body_over_the_limit_is_413(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/tasks",
        content=chunks(body_of_size(MAX_BODY_BYTES + 4096)),
        headers={**auth(ALICE), **JSON},
    )

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await all_tasks(app) == []


async def test_chunked_body_within_the_limit_is_read_whole(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    content = b'{"title": "chunked", "description": "' + b"d" * 2000 + b'"}'

    response = await client.post(
        "/api/tasks", content=chunks(content, 100), headers={**auth(ALICE), **JSON}
    )

    assert response.status_code == 201, response.text
    assert [(t.title, t.description) for t in await all_tasks(app)] == [("chunked", "d" * 2000)]


async def test_body_larger_than_its_declared_length_is_413(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    content = body_of_size(MAX_BODY_BYTES + 1)

    response = await client.post(
        "/api/tasks", content=content, headers={**auth(ALICE), **JSON, "Content-Length": "20"}
    )

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await all_tasks(app) == []


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "+14", "0x10", ""])
async def test_invalid_content_length_is_refused(
    app: FastAPI, client: httpx.AsyncClient, declared: str
) -> None:
    response = await client.post(
        "/api/tasks",
        content=b'{"title": "x"}',
        headers={**auth(ALICE), **JSON, "Content-Length": declared},
    )

    assert response.request.headers["content-length"] == declared
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"detail", "error_code", "status_code"}
    assert await all_tasks(app) == []


# --- PUT ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "error_code", "detail"),
    [
        pytest.param(
            b"{}",
            "VALIDATION_ERROR",
            "Provide at least one of: title, description, is_completed, due_date, due_at, "
            "priority, tags, list_id, recurrence, reminders",
            id="no-fields",
        ),
        pytest.param(
            b'{"title": null}',
            "VALIDATION_ERROR",
            "title: cannot be null (omit it to leave it unchanged)",
            id="title-null",
        ),
        pytest.param(
            b'{"title": ""}',
            "VALIDATION_ERROR",
            "title.constrained-str: String should have at least 1 character; "
            "title.none: Input should be None",
            id="title-empty",
        ),
        pytest.param(b'{"foo": 1}', "VALIDATION_ERROR", "foo: unknown field", id="unknown-foo"),
        pytest.param(
            b'{"description": "x\\udc00"}',
            "VALIDATION_ERROR",
            f"description: {NUL_OR_SURROGATE}",
            id="lone-surrogate",
        ),
        pytest.param(b'{"title": "x"', "MALFORMED_JSON", NOT_JSON, id="malformed"),
        pytest.param(b"[" * 20000, "MALFORMED_JSON", PARSE_ERROR, id="deeply-nested"),
        pytest.param(b"[]", "VALIDATION_ERROR", NOT_AN_OBJECT, id="array"),
        pytest.param(b"null", "VALIDATION_ERROR", NOT_AN_OBJECT, id="null"),
        pytest.param(b"", "VALIDATION_ERROR", "A JSON object is required", id="empty"),
    ],
)
async def test_update_refuses_bad_input_and_keeps_the_row(
    app: FastAPI, client: httpx.AsyncClient, content: bytes, error_code: str, detail: str
) -> None:
    task = await existing_task(app)
    before = await all_rows(app)

    response = await put_raw(client, ALICE, task.id, content)

    assert_error(response, 400, error_code, detail)
    assert await all_rows(app) == before


async def test_update_refuses_a_form_encoded_body(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await existing_task(app)
    before = await all_rows(app)

    response = await client.put(f"/api/tasks/{task.id}", data={"title": "x"}, headers=auth(ALICE))

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await all_rows(app) == before


async def test_update_stores_an_escaped_surrogate_pair_as_one_character(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await existing_task(app)

    response = await put_raw(client, ALICE, task.id, b'{"description": "\\ud83d\\ude00"}')

    assert response.status_code == 200, response.text
    stored = await stored_task(app, task.id)
    assert stored is not None
    assert stored.description == "😀"


async def test_an_invisible_title_is_a_400_and_nothing_is_written(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/tasks", json={"title": "\u200b\u200b"}, headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR", "title: must contain a visible character")
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"title": "shown", "title": "stored"}', "title"),
        (b'{"title": "a", "is_completed": false, "is_completed": true}', "is_completed"),
    ],
)
async def test_a_repeated_json_key_is_a_400_and_nothing_is_written(
    app: FastAPI, client: httpx.AsyncClient, raw: bytes, key: str
) -> None:
    response = await client.post(
        "/api/tasks", content=raw, headers={**auth(ALICE), "Content-Type": "application/json"}
    )

    assert_error(
        response, 400, "VALIDATION_ERROR", f"{key}: the key appears more than once in the body"
    )
    assert await all_tasks(app) == []
