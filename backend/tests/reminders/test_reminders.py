"""Reminders on both databases, with the tests' clock: planned on create, re-planned on edits
and when a recurring task moves on, fired exactly once as a `reminder_fired` event, late within
the maximum lateness, dropped beyond it or for a completed task (README "Reminders")."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import Event, Reminder
from app.reminders.service import MAX_LATENESS, fire_due
from app.state import app_state
from tests.support.clock import CLOCK, START
from tests.support.helpers import ALICE, all_rows, assert_error, auth, create_task, sessionmaker_of

DUE = START + timedelta(days=1)  # 27 November 2026, 12:00 UTC
DUE_TEXT = "2026-11-27T12:00:00Z"


async def reminders(app: FastAPI) -> list[Reminder]:
    async with sessionmaker_of(app)() as session:
        rows = await session.scalars(select(Reminder).order_by(Reminder.fire_at))  # type: ignore[arg-type]
        return list(rows.all())


async def fired_events(app: FastAPI) -> list[Event]:
    async with sessionmaker_of(app)() as session:
        rows = await session.scalars(
            select(Event).where(Event.kind == "reminder_fired").order_by(Event.seq)  # type: ignore[arg-type]
        )
        return list(rows.all())


async def fire_at(app: FastAPI, moment: datetime) -> int:
    CLOCK.set(moment)
    return await fire_due(app_state(app).database, moment)


async def with_reminders(client: httpx.AsyncClient, *items: dict[str, Any]) -> dict[str, Any]:
    return await create_task(client, due_at=DUE_TEXT, reminders=list(items))


async def test_reminders_are_planned_from_the_due(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await with_reminders(client, {"before": "PT30M"}, {"at": "2026-11-27T08:00:00+01:00"})
    assert task["reminders"] == [{"before": "PT30M"}, {"at": "2026-11-27T07:00:00+00:00"}]
    planned = await reminders(app)
    assert [r.fire_at for r in planned] == [
        datetime(2026, 11, 27, 7, tzinfo=UTC),
        DUE - timedelta(minutes=30),
    ]
    assert all(r.fired_at is None for r in planned)


async def test_a_reminder_fires_exactly_once_as_an_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await with_reminders(client, {"before": "PT30M"})
    assert await fire_at(app, DUE - timedelta(minutes=31)) == 0  # not yet
    assert await fire_at(app, DUE - timedelta(minutes=29)) == 1
    assert await fire_at(app, DUE - timedelta(minutes=28)) == 0  # never twice
    [event] = await fired_events(app)
    assert (str(event.entity_id), event.entity_type, event.actor) == (task["id"], "task", ALICE)
    assert event.state["title"] == task["title"]
    assert event.state["reminder"]["number"] == 0
    assert event.state["reminder"]["late"] is False
    [reminder] = await reminders(app)
    assert (reminder.outcome, reminder.fired_at is not None) == ("fired", True)


async def test_a_late_reminder_is_marked_late_and_a_too_late_one_is_dropped(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await with_reminders(client, {"before": "PT1H"})
    assert await fire_at(app, DUE) == 1  # every worker was down for an hour
    [event] = await fired_events(app)
    assert event.state["reminder"]["late"] is True
    CLOCK.set(START)
    await create_task(client, due_at="2026-11-27T13:00:00Z", reminders=[{"before": "PT1H"}])
    assert await fire_at(app, DUE + MAX_LATENESS + timedelta(minutes=1)) == 0
    assert len(await fired_events(app)) == 1
    assert [r.outcome for r in await reminders(app)] == ["late", "dropped"]


async def test_no_reminder_for_a_completed_or_deleted_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    done = await with_reminders(client, {"before": "PT30M"})
    gone = await with_reminders(client, {"before": "PT30M"})
    completed = await client.put(
        f"/api/tasks/{done['id']}", json={"is_completed": True}, headers=auth(ALICE)
    )
    assert completed.status_code == 200
    deleted = await client.delete(f"/api/tasks/{gone['id']}", headers=auth(ALICE))
    assert deleted.status_code == 204
    assert await fire_at(app, DUE) == 0
    assert await fired_events(app) == []
    assert [r.outcome for r in await reminders(app)] == ["dropped"]  # the deleted one went


async def test_editing_the_due_replans(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await with_reminders(client, {"before": "PT30M"})
    response = await client.put(
        f"/api/tasks/{task['id']}", json={"due_at": "2026-11-28T12:00:00Z"}, headers=auth(ALICE)
    )
    assert response.status_code == 200, response.text
    [planned] = await reminders(app)
    assert planned.fire_at == datetime(2026, 11, 28, 11, 30, tzinfo=UTC)
    cleared = await client.put(
        f"/api/tasks/{task['id']}", json={"reminders": []}, headers=auth(ALICE)
    )
    assert cleared.json()["reminders"] is None
    assert await reminders(app) == []


async def test_a_recurring_tasks_reminders_rearm_for_the_next_occurrence(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(
        client,
        due_at=DUE_TEXT,
        recurrence={"rule": "FREQ=DAILY", "time_zone": "UTC"},
        reminders=[{"before": "PT30M"}],
    )
    assert await fire_at(app, DUE - timedelta(minutes=29)) == 1
    moved = await client.put(
        f"/api/tasks/{task['id']}", json={"is_completed": True}, headers=auth(ALICE)
    )
    assert moved.json()["due_at"] == "2026-11-28T12:00:00Z"
    [planned] = await reminders(app)
    assert (planned.fire_at, planned.fired_at) == (DUE + timedelta(hours=23, minutes=30), None)
    assert await fire_at(app, DUE + timedelta(hours=23, minutes=31)) == 1


async def test_bad_reminders_are_400s_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"due_date": "2026-11-27", "reminders": [{"before": "PT30M"}]},
            "INVALID_REMINDERS",
            "before",
        ),
        (
            {"due_at": DUE_TEXT, "reminders": [{"before": "30 minutes"}]},
            "VALIDATION_ERROR",
            "before",
        ),
        (
            {"due_at": DUE_TEXT, "reminders": [{"before": "PT1M", "at": DUE_TEXT}]},
            "VALIDATION_ERROR",
            "exactly one",
        ),
        (
            {"due_at": DUE_TEXT, "reminders": [{"at": "2026-11-27T08:00:00"}]},
            "VALIDATION_ERROR",
            "at",
        ),
        (
            {"due_at": DUE_TEXT, "reminders": [{"before": "PT1M"}] * 11},
            "VALIDATION_ERROR",
            "reminders",
        ),
    ]
    for body, code, part in cases:
        response = await client.post("/api/tasks", json={"title": "x", **body}, headers=auth(ALICE))
        assert_error(response, 400, code, mentions=(part,))
    assert await all_rows(app) == []
    assert await reminders(app) == []


async def test_a_fired_reminder_shows_on_the_changes_feed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await with_reminders(client, {"before": "PT30M"})
    start = await client.get("/api/tasks/changes", headers=auth(ALICE))
    token = start.json()["next_token"]
    assert await fire_at(app, DUE - timedelta(minutes=29)) == 1
    for path in ("/api/tasks/changes", "/api/changes"):
        response = await client.get(path, params={"since": token}, headers=auth(ALICE))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["tasks"] == []  # the task itself did not change
        [fired] = body["reminders_fired"]
        assert fired["task"]["id"] == task["id"]
        assert (fired["reminder"]["number"], fired["reminder"]["late"]) == (0, False)
        assert body["next_token"] != token


async def test_many_owners_fire_in_one_batch_each_with_their_own_numbers_and_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owners = [f"owner-{n:02d}" for n in range(12)]  # one transaction fires them all
    tasks = {
        owner: await create_task(client, owner, due_at=DUE_TEXT, reminders=[{"before": "PT30M"}])
        for owner in owners
    }
    assert await fire_at(app, DUE - timedelta(minutes=29)) == len(owners)
    assert await fire_at(app, DUE - timedelta(minutes=28)) == 0  # each once

    events = await fired_events(app)
    assert sorted(event.scope_id for event in events) == owners
    for event in events:
        task = tasks[event.scope_id]
        # The owner's own task, numbered after the owner's create (version 1): seq 2.
        assert (str(event.entity_id), event.actor, event.seq) == (task["id"], event.scope_id, 2)
        assert event.state["title"] == task["title"]
    assert all(r.fired_at is not None for r in await reminders(app))
