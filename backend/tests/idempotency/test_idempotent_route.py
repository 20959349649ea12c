"""`@idempotent` on a route that is not the tasks' create: a POST added to the real app for
the test, writing through the real tasks service, answering 202 with its own header."""

import inspect

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

from app.auth.dependencies import CurrentUserId
from app.errors import ValidationFailed
from app.http.dependencies import database_of
from app.http.responses import JsonBody
from app.idempotency.route import idempotent
from app.models import IdempotencyKey
from app.tasks import service as tasks
from app.tasks.family import TreeLimits
from app.tasks.schemas import TaskCreate
from tests.support.helpers import ALICE, all_rows, all_tasks, assert_error, auth, stored_key_columns

KEY = "note-8e03978e"
NOTES = "/api/test/notes"


class Note(BaseModel):
    title: str
    fail_after_write: bool = False


@idempotent
async def post_note(note: Note, caller: CurrentUserId, http_request: Request) -> Response:
    """Names the caller and the request as it likes: the decorator finds them by their type."""
    database = database_of(http_request)
    task = await tasks.create_task(database, caller, TaskCreate(title=note.title), TreeLimits(10))
    if note.fail_after_write:
        raise ValidationFailed("refused after writing")
    return JsonBody({"note": task["id"]}, status_code=202, headers={"X-Note": note.title})


@pytest.fixture
def notes_app(app: FastAPI) -> FastAPI:
    app.router.add_api_route(NOTES, post_note, methods=["POST"])
    return app


async def post(client: httpx.AsyncClient, body: object, key: str = KEY) -> httpx.Response:
    return await client.post(NOTES, json=body, headers={**auth(ALICE), "Idempotency-Key": key})


async def stored_routes(app: FastAPI) -> list[tuple[str, str]]:
    return await stored_key_columns(app, IdempotencyKey.key, IdempotencyKey.route)


async def test_a_retry_replays_status_headers_and_body(
    notes_app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await post(client, {"title": "one"})
    retry = await post(client, {"title": "one"})

    assert first.status_code == retry.status_code == 202, retry.text
    assert retry.content == first.content
    assert retry.headers["x-note"] == first.headers["x-note"] == "one"
    assert retry.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert "idempotency-replayed" not in first.headers
    assert retry.headers["idempotency-replayed"] == "true"
    assert [str(task.id) for task in await all_tasks(notes_app)] == [first.json()["note"]]
    assert await stored_routes(notes_app) == [(KEY, f"POST {NOTES}")]


async def test_without_the_header_each_request_writes(
    notes_app: FastAPI, client: httpx.AsyncClient
) -> None:
    for _ in range(2):
        response = await client.post(NOTES, json={"title": "plain"}, headers=auth(ALICE))
        assert response.status_code == 202

    assert len(await all_tasks(notes_app)) == 2
    assert await stored_routes(notes_app) == []


async def test_the_key_with_another_body_is_422_and_writes_nothing(
    notes_app: FastAPI, client: httpx.AsyncClient
) -> None:
    await post(client, {"title": "one"})
    before = await all_rows(notes_app)

    response = await post(client, {"title": "two"})

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await all_rows(notes_app) == before


async def test_the_key_on_another_route_is_422_and_writes_nothing(
    notes_app: FastAPI, client: httpx.AsyncClient
) -> None:
    await post(client, {"title": "one"})
    before = await all_rows(notes_app)

    response = await client.post(
        "/api/tasks", json={"title": "one"}, headers={**auth(ALICE), "Idempotency-Key": KEY}
    )

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await all_rows(notes_app) == before
    assert await stored_routes(notes_app) == [(KEY, f"POST {NOTES}")]


async def test_a_route_that_fails_after_writing_leaves_neither_row_nor_key(
    notes_app: FastAPI, client: httpx.AsyncClient
) -> None:
    failed = await post(client, {"title": "one", "fail_after_write": True})

    assert_error(failed, 400, "VALIDATION_ERROR")
    assert await all_tasks(notes_app) == []
    assert await stored_routes(notes_app) == []

    retried = await post(client, {"title": "one", "fail_after_write": True})
    assert_error(retried, 400, "VALIDATION_ERROR")
    assert "idempotency-replayed" not in retried.headers
    assert await all_tasks(notes_app) == []


def test_a_route_that_returns_no_response_cannot_be_idempotent() -> None:
    async def returns_a_dict(note: Note) -> dict[str, str]:
        return {"title": note.title}

    with pytest.raises(TypeError, match="must return a Response"):
        idempotent(returns_a_dict)  # type: ignore[arg-type]


def test_the_route_keeps_its_parameters_and_gains_only_what_it_lacks() -> None:
    @idempotent
    async def takes_the_caller(note: Note, user_id: CurrentUserId) -> Response:
        return Response(status_code=204)

    assert list(inspect.signature(post_note).parameters) == ["note", "caller", "http_request"]
    assert list(inspect.signature(takes_the_caller).parameters) == [
        "note",
        "user_id",
        "_idempotency_request",
    ]
