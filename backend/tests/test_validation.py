"""Bad input is a 400 (413 if too big) naming the problem, and nothing is written.

Bodies that must reach the server as exact JSON text (lone surrogates, broken JSON) are sent
as raw bytes with `content=`, since httpx's `json=` would re-encode or refuse them.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.models import Task
from tests.factories import ALICE, all_tasks, auth, make_task, stored_task

MAX_BODY_BYTES = 64 * 1024
JSON = {"Content-Type": "application/json"}


def assert_error(response: httpx.Response, status: int, error_code: str, *mentions: str) -> None:
    """The error envelope, with `detail` naming each of `mentions`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"detail": body["detail"], "error_code": error_code, "status_code": status}
    for mention in mentions:
        assert mention in body["detail"]


async def post_json(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post("/api/tasks", json=body, headers=auth(ALICE))


async def post_raw(
    client: httpx.AsyncClient, content: bytes, content_type: str | None = "application/json"
) -> httpx.Response:
    headers = auth(ALICE)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await client.post("/api/tasks", content=content, headers=headers)


async def snapshot(app: FastAPI) -> list[dict[str, Any]]:
    return [task.model_dump() for task in await all_tasks(app)]


async def existing_task(app: FastAPI) -> Task:
    return await make_task(app, ALICE, title="keep me", description="as I am")


async def put_raw(client: httpx.AsyncClient, task: Task, content: bytes) -> httpx.Response:
    return await client.put(
        f"/api/tasks/{task.id}", content=content, headers={**auth(ALICE), **JSON}
    )


# --- POST: values -------------------------------------------------------------------------

BAD_CREATE_BODIES = [
    pytest.param({}, "title", id="title-missing"),
    pytest.param({"description": "no title"}, "title", id="only-description"),
    pytest.param({"title": ""}, "title", id="title-empty"),
    pytest.param({"title": "   "}, "title", id="title-spaces"),
    pytest.param({"title": "\t\n\r "}, "title", id="title-whitespace"),
    pytest.param({"title": "\u00a0\u3000"}, "title", id="title-unicode-spaces"),
    pytest.param({"title": "a" * 201}, "title", id="title-201-chars"),
    pytest.param({"title": "😀" * 201}, "title", id="title-201-emoji"),
    pytest.param({"title": "x", "description": "a" * 2001}, "description", id="description-2001"),
    pytest.param({"title": 1}, "title", id="title-number"),
    pytest.param({"title": True}, "title", id="title-bool"),
    pytest.param({"title": None}, "title", id="title-null"),
    pytest.param({"title": []}, "title", id="title-list"),
    pytest.param({"title": {}}, "title", id="title-object"),
    pytest.param({"title": "x", "description": 5}, "description", id="description-number"),
    pytest.param({"title": "x", "is_completed": "yes"}, "is_completed", id="completed-yes"),
    pytest.param({"title": "x", "is_completed": "true"}, "is_completed", id="completed-str"),
    pytest.param({"title": "x", "is_completed": 1}, "is_completed", id="completed-1"),
    pytest.param({"title": "x", "is_completed": 0}, "is_completed", id="completed-0"),
    pytest.param({"title": "x", "is_completed": None}, "is_completed", id="completed-null"),
    pytest.param({"title": "x", "user_id": "someone"}, "user_id", id="unknown-user_id"),
    pytest.param(
        {"title": "x", "id": "00000000-0000-0000-0000-000000000001"}, "id", id="unknown-id"
    ),
    pytest.param(
        {"title": "x", "created_at": "2020-01-01T00:00:00Z"}, "created_at", id="unknown-created"
    ),
    pytest.param({"title": "x", "foo": "bar"}, "foo", id="unknown-foo"),
    pytest.param({"title": "a\u0000b"}, "title", id="title-nul"),
    pytest.param({"title": "x", "description": "a\u0000b"}, "description", id="description-nul"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CREATE_BODIES)
async def test_create_refuses_invalid_field(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await post_json(client, body)

    assert_error(response, 400, "VALIDATION_ERROR", field)
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("a" * 200, id="200-ascii"),
        pytest.param("😀" * 200, id="200-emoji"),
        pytest.param("é" * 200, id="200-two-byte"),
        pytest.param("  " + "a" * 200 + "  ", id="200-after-trimming"),
    ],
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


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[]", id="array"),
        pytest.param(b'"x"', id="string"),
        pytest.param(b"1", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b'[{"title": "x"}]', id="array-of-task"),
    ],
)
async def test_create_refuses_a_body_that_is_not_an_object(
    app: FastAPI, client: httpx.AsyncClient, content: bytes
) -> None:
    response = await post_raw(client, content)

    assert_error(response, 400, "VALIDATION_ERROR", "object")
    assert await all_tasks(app) == []


async def test_create_refuses_an_empty_body(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await post_raw(client, b"")

    assert_error(response, 400, "VALIDATION_ERROR", "JSON object is required")
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"title": ', id="truncated"),
        pytest.param(b"{'title': 'x'}", id="single-quotes"),
        pytest.param(b'{"title": "x",}', id="trailing-comma"),
        pytest.param(b'{"title": "x"} {}', id="two-documents"),
        pytest.param(b"title=x", id="not-json"),
        pytest.param(b'{"title": "\\x41"}', id="bad-escape"),
        pytest.param(b'{"title": "\\ud83d\\ude0"}', id="truncated-unicode-escape"),
        pytest.param(b'{"title": "caf\xe9"}', id="latin-1-not-utf-8"),
        pytest.param(b"[" * 20000, id="deeply-nested-unclosed"),
        pytest.param(b"[" * 20000 + b"]" * 20000, id="deeply-nested-arrays"),
        pytest.param(b'{"a":' * 10000 + b"1" + b"}" * 10000, id="deeply-nested-objects"),
    ],
)
async def test_create_refuses_malformed_json(
    app: FastAPI, client: httpx.AsyncClient, content: bytes
) -> None:
    assert len(content) < MAX_BODY_BYTES

    response = await post_raw(client, content)

    assert_error(response, 400, "MALFORMED_JSON")
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    ("content", "field"),
    [
        pytest.param(b'{"title": "\\ud800"}', "title", id="title-high-surrogate"),
        pytest.param(b'{"title": "a\\udfffb"}', "title", id="title-low-surrogate"),
        pytest.param(b'{"title": "\\ude00\\ud83d"}', "title", id="title-pair-reversed"),
        pytest.param(b'{"title": "x", "description": "\\ud800"}', "description", id="description"),
        pytest.param(b'{"title": "x", "is_completed": "\\ud800"}', "is_completed", id="boolean"),
    ],
)
async def test_create_refuses_lone_surrogates(
    app: FastAPI, client: httpx.AsyncClient, content: bytes, field: str
) -> None:
    response = await post_raw(client, content)

    assert_error(response, 400, "VALIDATION_ERROR", field)
    assert await all_tasks(app) == []


async def test_create_refuses_an_unknown_field_named_by_a_lone_surrogate(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await post_raw(client, b'{"title": "x", "\\ud800": 1}')

    assert_error(response, 400, "VALIDATION_ERROR")
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

    assert_error(response, 400, "VALIDATION_ERROR", "object")
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

    assert_error(response, 400, "VALIDATION_ERROR", "object")
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
    before = await snapshot(app)

    response = await put_raw(client, task, body_of_size(MAX_BODY_BYTES + 1))

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await snapshot(app) == before


async def test_body_one_byte_over_the_limit_is_413(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await post_raw(client, body_of_size(MAX_BODY_BYTES + 1))

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await all_tasks(app) == []


@pytest.mark.parametrize("size", [MAX_BODY_BYTES, MAX_BODY_BYTES - 1])
async def test_invalid_body_within_the_limit_is_400_not_413(
    app: FastAPI, client: httpx.AsyncClient, size: int
) -> None:
    response = await post_raw(client, body_of_size(size))

    assert_error(response, 400, "VALIDATION_ERROR", "title")
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

BAD_UPDATE_BODIES = [
    pytest.param({}, "at least one", id="no-fields"),
    pytest.param({"title": None}, "title", id="title-null"),
    pytest.param({"is_completed": None}, "is_completed", id="completed-null"),
    pytest.param({"title": ""}, "title", id="title-empty"),
    pytest.param({"title": "  "}, "title", id="title-spaces"),
    pytest.param({"title": "a" * 201}, "title", id="title-201-chars"),
    pytest.param({"title": 5}, "title", id="title-number"),
    pytest.param({"description": "a" * 2001}, "description", id="description-2001"),
    pytest.param({"is_completed": "false"}, "is_completed", id="completed-str"),
    pytest.param({"is_completed": 0}, "is_completed", id="completed-0"),
    pytest.param({"foo": 1}, "foo", id="unknown-foo"),
    pytest.param({"user_id": "someone-else"}, "user_id", id="unknown-user_id"),
    pytest.param({"id": "00000000-0000-0000-0000-000000000001"}, "id", id="unknown-id"),
    pytest.param({"updated_at": "2020-01-01T00:00:00Z"}, "updated_at", id="unknown-updated"),
    pytest.param({"title": "valid", "foo": 1}, "foo", id="valid-field-with-unknown"),
    pytest.param({"title": "valid", "is_completed": "yes"}, "is_completed", id="valid-with-bad"),
    pytest.param({"title": "a\u0000"}, "title", id="title-nul"),
    pytest.param({"description": "\u0000"}, "description", id="description-nul"),
]


@pytest.mark.parametrize(("body", "field"), BAD_UPDATE_BODIES)
async def test_update_refuses_invalid_field_and_keeps_the_row(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    task = await existing_task(app)
    before = await snapshot(app)

    response = await client.put(f"/api/tasks/{task.id}", json=body, headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR", field)
    assert await snapshot(app) == before


@pytest.mark.parametrize(
    ("content", "error_code"),
    [
        pytest.param(b'{"title": "\\ud800"}', "VALIDATION_ERROR", id="lone-surrogate"),
        pytest.param(b'{"description": "x\\udc00"}', "VALIDATION_ERROR", id="lone-low-surrogate"),
        pytest.param(b'{"title": "x"', "MALFORMED_JSON", id="malformed"),
        pytest.param(b"[" * 20000, "MALFORMED_JSON", id="deeply-nested"),
        pytest.param(b"[]", "VALIDATION_ERROR", id="array"),
        pytest.param(b"null", "VALIDATION_ERROR", id="null"),
        pytest.param(b"", "VALIDATION_ERROR", id="empty"),
    ],
)
async def test_update_refuses_unusable_json_and_keeps_the_row(
    app: FastAPI, client: httpx.AsyncClient, content: bytes, error_code: str
) -> None:
    task = await existing_task(app)
    before = await snapshot(app)

    response = await put_raw(client, task, content)

    assert_error(response, 400, error_code)
    assert await snapshot(app) == before


async def test_update_refuses_a_form_encoded_body(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await existing_task(app)
    before = await snapshot(app)

    response = await client.put(f"/api/tasks/{task.id}", data={"title": "x"}, headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR")
    assert await snapshot(app) == before


async def test_update_stores_an_escaped_surrogate_pair_as_one_character(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await existing_task(app)

    response = await put_raw(client, task, b'{"description": "\\ud83d\\ude00"}')

    assert response.status_code == 200, response.text
    stored = await stored_task(app, task.id)
    assert stored is not None
    assert stored.description == "😀"
