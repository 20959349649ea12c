"""The fields issue 10 adds to a task: due (all-day or timed), priority, tags, completed_at.
Each checked through the API and against the stored row, on both databases."""

import uuid
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.models import TaskTag
from app.tasks.repository import TASKS
from tests.support.clock import now as clock_now
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    assert_error,
    auth,
    create_task,
    sessionmaker_of,
)


async def stored(app: FastAPI, task_id: str) -> dict[str, Any]:
    """Every column of the row, the server-derived ones included."""
    async with sessionmaker_of(app)() as session:
        query = select(TASKS).where(TASKS.c.id == uuid.UUID(task_id))
        row = (await session.execute(query)).mappings().one()
        return dict(row)


async def tag_rows(app: FastAPI) -> list[tuple[str, str, str]]:
    """(owner, name, folded name) of every tag row, whoever owns it."""
    async with sessionmaker_of(app)() as session:
        rows = await session.execute(
            select(TaskTag.user_id, TaskTag.name, TaskTag.name_key).order_by(  # type: ignore[call-overload]
                TaskTag.user_id, TaskTag.name_key
            )
        )
        return [tuple(row) for row in rows]


async def put(client: httpx.AsyncClient, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.put(f"/api/tasks/{task_id}", json=body, headers=auth(ALICE))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- defaults: what an old client sees --------------------------------------------------


async def test_a_task_created_the_old_way_has_the_new_fields_empty(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="Buy milk")

    assert {name: task[name] for name in ("due_date", "due_at", "priority", "tags")} == {
        "due_date": None,
        "due_at": None,
        "priority": "none",
        "tags": [],
    }
    assert task["completed_at"] is None
    row = await stored(app, task["id"])
    assert (row["priority"], row["tags"], row["due_date"], row["due_at"]) == (0, [], None, None)
    assert row["title_key"] == "buy milk"


# --- due ----------------------------------------------------------------------------------


async def test_all_day_due_is_stored_and_returned_as_the_same_date(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t", due_date="2026-12-01")

    assert (task["due_date"], task["due_at"]) == ("2026-12-01", None)
    assert (await stored(app, task["id"]))["due_date"] == date(2026, 12, 1)
    fetched = await client.get(f"/api/tasks/{task['id']}", headers=auth(ALICE))
    assert fetched.json()["due_date"] == "2026-12-01"


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2026-12-01T17:00:00+01:00", "2026-12-01T16:00:00Z"),
        ("2026-12-01T00:30:00+14:00", "2026-11-30T10:30:00Z"),
        ("2026-11-30T23:30:00-11:00", "2026-12-01T10:30:00Z"),
        ("2026-12-01T16:00:00Z", "2026-12-01T16:00:00Z"),
    ],
)
async def test_timed_due_is_stored_and_returned_in_utc(
    app: FastAPI, client: httpx.AsyncClient, sent: str, utc: str
) -> None:
    task = await create_task(client, title="t", due_at=sent)

    assert (task["due_date"], task["due_at"]) == (None, utc)
    expected = datetime.fromisoformat(utc)
    assert (await stored(app, task["id"]))["due_at"] == expected
    fetched = await client.get(f"/api/tasks/{task['id']}", headers=auth(ALICE))
    assert fetched.json()["due_at"] == utc


async def test_setting_one_kind_of_due_clears_the_other_and_null_clears_both(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t", due_date="2026-12-01")

    timed = await put(client, task["id"], {"due_at": "2026-12-02T09:00:00+00:00"})
    assert (timed["due_date"], timed["due_at"]) == (None, "2026-12-02T09:00:00Z")
    all_day = await put(client, task["id"], {"due_date": "2026-12-03"})
    assert (all_day["due_date"], all_day["due_at"]) == ("2026-12-03", None)
    cleared = await put(client, task["id"], {"due_at": None})
    assert (cleared["due_date"], cleared["due_at"]) == (None, None)

    row = await stored(app, task["id"])
    assert (row["due_date"], row["due_at"]) == (None, None)
    assert row["due_key"] == row["due_key_desc"] == 2**62


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        ({"due_at": "2026-12-01T17:00:00"}, "due_at"),  # no offset
        ({"due_at": "2026-12-01"}, "due_at"),
        ({"due_at": 1764608400}, "due_at"),
        ({"due_at": "0001-01-01T00:00:00+01:00"}, "due_at"),
        # asyncpg would store PostgreSQL's -infinity and read back an instant without offset.
        ({"due_at": "0001-01-01T00:00:00Z"}, "due_at"),
        # ...and the last one as infinity: both would come back as something else
        ({"due_at": "9999-12-31T23:59:59.999999Z"}, "due_at"),
        ({"due_date": "2026-12-01T00:00:00Z"}, "due_date"),
        ({"due_date": "2026-13-01"}, "due_date"),
        ({"due_date": "01/12/2026"}, "due_date"),
        ({"due_date": 20261201}, "due_date"),
        ({"due_date": "2026-12-01", "due_at": "2026-12-01T17:00:00Z"}, "not both"),
        ({"priority": "urgent"}, "priority"),
        ({"priority": 3}, "priority"),
        ({"priority": None}, "priority"),
        ({"tags": ["a"] * 1 + [f"t{n}" for n in range(20)]}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": ["   "]}, "tags"),
        ({"tags": ["\u200b"]}, "tags"),
        ({"tags": ["a\u202eb"]}, "tags"),
        ({"tags": ["ok", "a\x00"]}, "tags"),
        ({"tags": ["Work", "work"]}, "repeats another"),
        ({"tags": ["Straße", "STRASSE"]}, "repeats another"),
        ({"tags": "work"}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"tags": None}, "tags"),
        ({"completed_at": "2026-12-01T00:00:00Z"}, "completed_at: unknown field"),
    ],
)
async def test_bad_new_fields_are_400_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any], mention: str
) -> None:
    task = await create_task(client, title="kept", tags=["keep"])
    before, tags_before = await all_rows(app), await tag_rows(app)

    created = await client.post("/api/tasks", json={"title": "x", **body}, headers=auth(ALICE))
    updated = await client.put(f"/api/tasks/{task['id']}", json=body, headers=auth(ALICE))

    for response in (created, updated):
        assert_error(response, 400, "VALIDATION_ERROR", mentions=(mention,))
    assert await all_rows(app) == before
    assert await tag_rows(app) == tags_before


# --- priority -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "rank"), [("none", 0), ("low", 1), ("medium", 2), ("high", 3)])
async def test_priority_is_returned_by_name_and_stored_as_its_rank(
    app: FastAPI, client: httpx.AsyncClient, name: str, rank: int
) -> None:
    task = await create_task(client, title="t", priority=name)

    assert task["priority"] == name
    assert (await stored(app, task["id"]))["priority"] == rank
    assert (await put(client, task["id"], {"priority": "low"}))["priority"] == "low"
    assert (await stored(app, task["id"]))["priority"] == 1


# --- tags ---------------------------------------------------------------------------------


async def test_tags_are_trimmed_kept_as_written_and_indexed_by_folded_name(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t", tags=["  Work ", "Straße", "😀 fun"])

    assert task["tags"] == ["Work", "Straße", "😀 fun"]
    assert (await stored(app, task["id"]))["tags"] == ["Work", "Straße", "😀 fun"]
    assert sorted(await tag_rows(app), key=lambda row: row[2]) == [
        (ALICE, "Straße", "strasse"),
        (ALICE, "Work", "work"),
        (ALICE, "😀 fun", "😀 fun"),
    ]


async def test_twenty_tags_of_fifty_characters_fit(app: FastAPI, client: httpx.AsyncClient) -> None:
    tags = [f"{n:02d}" + "é" * 48 for n in range(20)]

    task = await create_task(client, title="t", tags=tags)

    assert task["tags"] == tags
    assert len(await tag_rows(app)) == 20


async def test_updating_tags_replaces_them_and_empty_removes_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t", tags=["a", "b"])

    assert (await put(client, task["id"], {"tags": ["B", "c"]}))["tags"] == ["B", "c"]
    assert [row[1] for row in sorted(await tag_rows(app))] == ["B", "c"]
    assert (await put(client, task["id"], {"tags": []}))["tags"] == []
    assert await tag_rows(app) == []
    assert (await stored(app, task["id"]))["tags"] == []


async def test_an_update_without_tags_keeps_them(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await create_task(client, title="t", tags=["a"])

    assert (await put(client, task["id"], {"title": "u"}))["tags"] == ["a"]
    assert [row[1] for row in await tag_rows(app)] == ["a"]


async def test_deleting_a_task_deletes_its_tags(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await create_task(client, title="t", tags=["a", "b"])
    await create_task(client, BOB, title="b", tags=["a"])

    response = await client.delete(f"/api/tasks/{task['id']}", headers=auth(ALICE))

    assert response.status_code == 204
    assert await tag_rows(app) == [(BOB, "a", "a")]


async def test_tags_on_another_users_task_cannot_be_set(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, BOB, title="b", tags=["mine"])

    response = await client.put(
        f"/api/tasks/{task['id']}", json={"tags": ["stolen"]}, headers=auth(ALICE)
    )

    assert_error(response, 403, "TASK_FORBIDDEN")
    assert await tag_rows(app) == [(BOB, "mine", "mine")]


async def test_resending_the_same_tags_does_not_move_updated_at(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t", tags=["a", "b"])

    again = await put(client, task["id"], {"tags": ["a", "b"]})

    assert again["updated_at"] == task["updated_at"]


# --- completed_at -------------------------------------------------------------------------


async def test_completed_at_is_set_on_completion_kept_and_cleared_on_reopening(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t")
    assert task["completed_at"] is None

    done = await put(client, task["id"], {"is_completed": True})
    assert done["completed_at"] is not None
    completed_at = datetime.fromisoformat(done["completed_at"])
    assert completed_at.utcoffset() is not None
    assert (await stored(app, task["id"]))["completed_at"] == completed_at

    again = await put(client, task["id"], {"is_completed": True, "title": "renamed"})
    assert again["completed_at"] == done["completed_at"]

    reopened = await put(client, task["id"], {"is_completed": False})
    assert reopened["completed_at"] is None
    assert (await stored(app, task["id"]))["completed_at"] is None


async def test_a_task_created_completed_has_completed_at(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="t", is_completed=True)

    assert task["completed_at"] == task["created_at"]
    row = await stored(app, task["id"])
    assert row["completed_at"] == row["created_at"]
    assert row["completed_at"].tzinfo is not None
    assert row["completed_at"] <= clock_now()
