"""List pages and single tasks (GET) are written by the database (app.tasks.json_rows); the
bodies of writes by Python (app.tasks.repository.record, then orjson). They must give the same
bytes for every kind of row: each list below is compared with the tasks read one by one and with
the same rows rendered by Python."""

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.http.responses import json_bytes
from app.state import app_state
from app.tasks import repository
from tests.lists.helpers import create_list
from tests.support.clock import now
from tests.support.helpers import ALICE, BOB, auth, create_task, make_task


async def _one_by_one(client: httpx.AsyncClient, ids: list[str]) -> bytes:
    bodies = []
    for task_id in ids:
        response = await client.get(f"/api/tasks/{task_id}", headers=auth(ALICE))
        assert response.status_code == 200
        bodies.append(response.content)
    return b"[" + b",".join(bodies) + b"]"


async def _rendered_by_python(app: FastAPI, ids: list[str]) -> bytes:
    """The same rows as a write's response renders them (app.tasks.repository.record)."""
    async with app_state(app).database.connect() as connection:
        rows = await repository.tasks_by_ids(connection, ALICE, [uuid.UUID(i) for i in ids])
    by_id = {str(row["id"]): row for row in rows}
    return b"[" + b",".join(json_bytes(by_id[task_id]) for task_id in ids) + b"]"


async def _assert_same_bytes(app: FastAPI, client: httpx.AsyncClient, query: str) -> list[str]:
    response = await client.get(f"/api/tasks{query}", headers=auth(ALICE))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    ids = [task["id"] for task in orjson.loads(response.content)]
    assert response.content == await _one_by_one(client, ids)
    assert response.content == await _rendered_by_python(app, ids)
    return ids


async def _tasks_of_every_shape(app: FastAPI, client: httpx.AsyncClient) -> None:
    earlier = now() - timedelta(days=3)
    # Stored values the API's own writes rarely make: whole seconds (no fraction), the first
    # and the last microsecond of a second, the earliest and latest instants stored as such.
    await make_task(app, ALICE, title="whole second", created_at=earlier.replace(microsecond=0))
    await make_task(
        app,
        ALICE,
        title="edges",
        created_at=earlier.replace(microsecond=1),
        updated_at=earlier.replace(microsecond=999_999),
        completed_at=datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        is_completed=True,
        due_at=datetime(9999, 12, 31, 23, 59, 59, 999_998, tzinfo=UTC),
        priority=3,
        version=2**62,
    )
    await make_task(app, ALICE, title="a day", due_date=date(1, 1, 1), priority=1)
    # Text JSON must escape, and text it must not: quotes, backslashes, control characters,
    # accents, characters outside the BMP, U+2028.
    await create_task(
        client,
        title='say "hi" \\ back\t\u0001 é \U0001f600 \u2028',
        description="line\nbreak",
        tags=["Work", 'quo"te', "ünï"],
        due_at="2026-12-02T17:00:00+01:00",
        priority="medium",
    )
    work = await create_list(client, name="Work")
    parent = await create_task(client, title="parent", list_id=work["id"])
    await create_task(client, title="child", parent_id=parent["id"], list_id=work["id"])
    await create_task(client, title="no description", description=None)
    await create_task(
        client,
        title="weekly",
        due_at="2026-12-07T09:00:00+01:00",
        recurrence={"rule": "FREQ=WEEKLY;BYDAY=MO;COUNT=3", "time_zone": "Europe/Berlin"},
        reminders=[{"before": "PT30M"}, {"at": "2026-12-06T20:00:00Z"}],
    )
    await make_task(app, BOB, title="not Alice's")


@pytest.mark.parametrize(
    "query",
    [
        "",  # the default page: its own prebuilt statement
        "?limit=3&offset=2",
        "?sort=due",  # keyset pages
        "?sort=-priority&limit=2",
        "?completed=false&sort=title",  # a filter by offset
        "?tag=work",
    ],
)
async def test_a_list_page_is_the_tasks_read_one_by_one_byte_for_byte(
    app: FastAPI, client: httpx.AsyncClient, query: str
) -> None:
    await _tasks_of_every_shape(app, client)
    ids = await _assert_same_bytes(app, client, query)
    assert ids  # every query above matches some of Alice's tasks


async def test_every_page_of_a_cursor_walk_matches(app: FastAPI, client: httpx.AsyncClient) -> None:
    await _tasks_of_every_shape(app, client)
    seen: list[str] = []
    url = "/api/tasks?sort=created_at&limit=3"
    while url:
        response = await client.get(url, headers=auth(ALICE))
        assert response.status_code == 200
        ids = [task["id"] for task in orjson.loads(response.content)]
        assert response.content == await _one_by_one(client, ids)
        assert response.content == await _rendered_by_python(app, ids)
        seen.extend(ids)
        link = response.links.get("next")
        url = link["url"] if link else ""
    assert len(seen) == len(set(seen)) == 8  # Alice's eight tasks, each once, none of Bob's


async def test_an_empty_page_is_an_empty_array(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tasks", headers=auth(ALICE))
    assert response.status_code == 200
    assert response.content == b"[]"
