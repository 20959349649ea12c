"""Cursors nobody but the server can sign, and never a 500 for one that is well signed but
absurd: the key comes from a server-private secret (CURSOR_SECRET, else BETTER_AUTH_SECRET,
else a random key of the process), each sort key is checked against its column's range, and
SQL parameters never reach the log. Both databases."""

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.state import app_state
from app.tasks.cursor import _b64, _mac, cursor_key
from app.tasks.query import SortKey, TaskFilter, TaskQuery
from tests.conftest import StartApp
from tests.support.helpers import (
    ALICE,
    SECRET,
    all_rows,
    assert_error,
    auth,
    bearer,
    create_task,
    make_settings,
    running_app,
)
from tests.support.jwks_server import (
    BASE_URL,
    JwksServer,
    SigningKey,
    better_auth_token,
    generate_key,
)

ID = "0" * 32


def signed_cursor(key: bytes, sort: SortKey, body_json: str, user: str = ALICE) -> str:
    query = TaskQuery(TaskFilter(), sort=sort, descending=False, uses_cursor=True)
    body = _b64(body_json.encode())
    return quote(f"{body}.{_b64(_mac(key, body.encode(), user, query.fingerprint()))}")


async def assert_invalid_cursor_and_nothing_written(
    app: FastAPI, response: httpx.Response, before: list[dict[str, object]]
) -> None:
    assert_error(response, 400, "INVALID_CURSOR")
    assert await all_rows(app) == before


async def test_a_cursor_nested_thousands_deep_is_invalid_cursor(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_task(client, title="mine")
    before = await all_rows(app)
    cursor = signed_cursor(cursor_key(SECRET), "title", "[" * 1500 + "]" * 1500)

    response = await client.get(f"/api/tasks?sort=title&cursor={cursor}", headers=auth(ALICE))

    await assert_invalid_cursor_and_nothing_written(app, response, before)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("priority", 32768),  # past SMALLINT: the driver's error, before
        ("priority", 4),
        ("priority", -1),
        ("due", 2**62 + 1),
        ("created_at", -(2**62)),  # before year 1
        ("updated_at", 2**62),  # after year 9999
    ],
)
async def test_a_sort_key_out_of_its_columns_range_is_invalid_cursor(
    app: FastAPI, client: httpx.AsyncClient, sort: SortKey, key: int
) -> None:
    await create_task(client, title="mine", priority="high")
    before = await all_rows(app)
    cursor = signed_cursor(cursor_key(SECRET), sort, json.dumps({"k": key, "i": ID, "t": 0}))

    response = await client.get(f"/api/tasks?sort={sort}&cursor={cursor}", headers=auth(ALICE))

    await assert_invalid_cursor_and_nothing_written(app, response, before)


async def test_the_highest_priority_key_still_pages(client: httpx.AsyncClient) -> None:
    """The counterpart: a key at the edge of its range is a cursor like any other."""
    await create_task(client, title="mine", priority="high")
    walk_start = 2**55  # far ahead: every row is "unchanged since"
    cursor = signed_cursor(
        cursor_key(SECRET), "priority", json.dumps({"k": 2, "i": ID, "t": walk_start})
    )

    response = await client.get(f"/api/tasks?sort=priority&cursor={cursor}", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert [task["title"] for task in response.json()] == ["mine"]


# --- whose key signs cursors --------------------------------------------------------------


def empty_key() -> bytes:
    """What signed cursors before when no secret was set: known to anyone who reads the code."""
    return hmac.new(b"", b"taskapi cursor v1", hashlib.sha256).digest()


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return generate_key("EdDSA")


@pytest.fixture
def jwks_server(signing_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer([signing_key.jwk()]).start()
    yield server
    server.stop()


def jwks_only(url: str) -> dict[str, object]:
    return {
        "better_auth_secret": None,
        "auth_jwks_url": url,
        "auth_issuer": BASE_URL,
        "auth_audience": BASE_URL,
    }


async def test_without_any_secret_a_cursor_signed_with_an_empty_key_is_refused(
    start_app: StartApp, jwks_server: JwksServer, signing_key: SigningKey
) -> None:
    headers = bearer(better_auth_token(signing_key, ALICE))
    async with start_app(**jwks_only(jwks_server.url)) as (app, client):
        for title in ("a", "b"):
            created = await client.post("/api/tasks", json={"title": title}, headers=headers)
            assert created.status_code == 201, created.text
        before = await all_rows(app)
        issued = await client.get("/api/tasks?sort=title&limit=1", headers=headers)
        forged = signed_cursor(empty_key(), "title", json.dumps({"k": "a", "i": ID, "t": 2**55}))

        refused = await client.get(f"/api/tasks?sort=title&cursor={forged}", headers=headers)
        followed = await client.get(issued.links["next"]["url"], headers=headers)

        await assert_invalid_cursor_and_nothing_written(app, refused, before)
        assert [task["title"] for task in followed.json()] == ["b"]


async def test_cursor_secret_signs_cursors_every_replica_accepts(
    start_app: StartApp, database_url: str
) -> None:
    """Two app instances (two replicas) with the same CURSOR_SECRET: a cursor from one pages
    on the other, and one signed with the token secret alone is refused."""
    shared = make_settings(database_url=database_url, cursor_secret="c" * 32)
    async with start_app(cursor_secret="c" * 32) as (_, first):
        for title in ("a", "b"):
            await create_task(first, title=title)
        issued = await first.get("/api/tasks?sort=title&limit=1", headers=auth(ALICE))
    by_token_secret = signed_cursor(
        cursor_key(SECRET), "title", json.dumps({"k": "a", "i": ID, "t": 2**55})
    )
    async with running_app(shared) as (_, second):
        followed = await second.get(issued.links["next"]["url"], headers=auth(ALICE))
        refused = await second.get(
            f"/api/tasks?sort=title&cursor={by_token_secret}", headers=auth(ALICE)
        )
    assert followed.status_code == 200, followed.text
    assert [task["title"] for task in followed.json()] == ["b"]
    assert_error(refused, 400, "INVALID_CURSOR")


async def test_sql_parameters_never_reach_the_log(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    secret_value = "do-not-log-this-value"
    database = app_state(app).database
    caplog.set_level(logging.INFO)  # (aiosqlite logs every call, parameters too, at DEBUG)
    statement = text("SELECT id FROM tasks WHERE title = :v AND no_such_column = 1")
    async with database.connect() as connection:
        with pytest.raises(DBAPIError) as failure:
            await connection.execute(statement, {"v": secret_value})
    assert secret_value not in str(failure.value)
    assert secret_value not in caplog.text
