"""Recurring tasks through the API, on both databases: the field on create and update,
completing moves the due (same id, subtasks reopened), completions recorded, skip,
occurrences, COUNT running out, and bad input writing nothing (README "Recurring tasks")."""

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import Event, TaskCompletion
from tests.support.clock import CLOCK, START
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    assert_error,
    auth,
    create_task,
    row_of,
    sessionmaker_of,
)

WEEKLY = {"rule": "FREQ=WEEKLY;BYDAY=MO", "time_zone": "Europe/Berlin"}


async def complete(client: httpx.AsyncClient, task: dict[str, Any]) -> httpx.Response:
    return await client.put(
        f"/api/tasks/{task['id']}", json={"is_completed": True}, headers=auth(ALICE)
    )


async def completions(app: FastAPI) -> list[TaskCompletion]:
    async with sessionmaker_of(app)() as session:
        return list((await session.scalars(select(TaskCompletion))).all())


async def test_a_recurrence_is_stored_and_read_back(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, due_at="2026-11-30T09:00:00+01:00", recurrence=WEEKLY)
    assert task["recurrence"] == {**WEEKLY, "repeat_from": "due", "remaining": None}
    got = (await client.get(f"/api/tasks/{task['id']}", headers=auth(ALICE))).json()
    assert got["recurrence"] == task["recurrence"]
    assert (await row_of(app, task["id"]))["recurrence"]["rule"] == "FREQ=WEEKLY;BYDAY=MO"
    plain = await create_task(client, title="plain")
    assert (plain["recurrence"], plain["reminders"]) == (None, None)


async def test_completing_moves_the_due_to_the_next_occurrence_and_records_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # Monday 30 November 2026, 09:00 in Berlin; "now" is Thursday 26 November.
    task = await create_task(client, due_at="2026-11-30T09:00:00+01:00", recurrence=WEEKLY)
    child = await create_task(client, title="step", parent_id=task["id"], is_completed=True)

    response = await complete(client, task)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == task["id"]
    assert body["is_completed"] is False
    assert body["due_at"] == "2026-12-07T08:00:00Z"
    assert body["recurrence"]["last_completed"]["due_at"].startswith("2026-11-30T08:00:00")
    stored_child = await row_of(app, child["id"])
    assert stored_child["is_completed"] is False  # its steps start again
    [done] = await completions(app)
    assert str(done.task_id) == task["id"]
    assert done.due_at is not None
    assert done.due_at.isoformat().startswith("2026-11-30T08:00")
    listed = await client.get(f"/api/tasks/{task['id']}/completions", headers=auth(ALICE))
    assert listed.status_code == 200
    assert [c["due_at"] for c in listed.json()] == ["2026-11-30T08:00:00Z"]


async def test_missed_occurrences_are_skipped_not_queued(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, due_at="2026-11-30T09:00:00+01:00", recurrence=WEEKLY)
    CLOCK.set(START + timedelta(days=30))  # 26 December: four Mondays missed
    body = (await complete(client, task)).json()
    assert body["due_at"] == "2026-12-28T08:00:00Z"


async def test_count_runs_out_and_the_task_completes_for_good(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    rule = {**WEEKLY, "rule": "FREQ=WEEKLY;BYDAY=MO;COUNT=2"}
    task = await create_task(client, due_at="2026-11-30T09:00:00+01:00", recurrence=rule)
    second = (await complete(client, task)).json()
    assert (second["is_completed"], second["recurrence"]["remaining"]) == (False, 0)
    last = (await complete(client, second)).json()
    assert last["is_completed"] is True
    assert last["due_at"] == "2026-12-07T08:00:00Z"  # the last occurrence, done
    assert len(await completions(app)) == 2


async def test_skip_moves_on_without_a_completion(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await create_task(
        client, due_date="2026-11-30", recurrence={**WEEKLY, "time_zone": "UTC"}
    )
    response = await client.post(f"/api/tasks/{task['id']}/skip", headers=auth(ALICE))
    assert response.status_code == 200, response.text
    assert response.json()["due_date"] == "2026-12-07"
    assert response.headers["ETag"] == response.json()["etag"]
    assert await completions(app) == []
    plain = await create_task(client, title="plain")
    refused = await client.post(f"/api/tasks/{plain['id']}/skip", headers=auth(ALICE))
    assert_error(refused, 400, "TASK_NOT_RECURRING")


async def test_occurrences_list_upcoming_dates(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await create_task(
        client, due_date="2026-11-30", recurrence={**WEEKLY, "time_zone": "UTC"}
    )
    response = await client.get(f"/api/tasks/{task['id']}/occurrences?limit=3", headers=auth(ALICE))
    assert response.status_code == 200, response.text
    assert [o["due_date"] for o in response.json()] == ["2026-11-30", "2026-12-07", "2026-12-14"]
    bad = await client.get(f"/api/tasks/{task['id']}/occurrences?limit=1000", headers=auth(ALICE))
    assert_error(bad, 400, "VALIDATION_ERROR")
    naive = await client.get(
        f"/api/tasks/{task['id']}/occurrences?from=2026-12-01T00:00:00", headers=auth(ALICE)
    )
    assert_error(naive, 400, "VALIDATION_ERROR")  # an instant needs its offset
    plain = await create_task(client, due_date="2026-12-24")
    once = await client.get(f"/api/tasks/{plain['id']}/occurrences", headers=auth(ALICE))
    assert [o["due_date"] for o in once.json()] == ["2026-12-24"]


async def test_another_users_recurring_task_is_403(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await create_task(
        client, due_date="2026-11-30", recurrence={**WEEKLY, "time_zone": "UTC"}
    )
    for response in (
        await client.post(f"/api/tasks/{task['id']}/skip", headers=auth(BOB)),
        await client.get(f"/api/tasks/{task['id']}/completions", headers=auth(BOB)),
        await client.get(f"/api/tasks/{task['id']}/occurrences", headers=auth(BOB)),
    ):
        assert_error(response, 403, "TASK_FORBIDDEN")
    assert (await row_of(app, task["id"]))["due_date"].isoformat() == "2026-11-30"


async def test_bad_recurrences_are_400s_naming_the_part_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"due_date": "2026-11-30", "recurrence": {**WEEKLY, "rule": "FREQ=MINUTELY"}},
            "VALIDATION_ERROR",
            "FREQ=MINUTELY",
        ),
        (
            {"due_date": "2026-11-30", "recurrence": {**WEEKLY, "rule": "FREQ=DAILY;BYDAY=XX"}},
            "INVALID_RECURRENCE",
            "BYDAY=XX",
        ),
        (
            {"due_date": "2026-11-30", "recurrence": {**WEEKLY, "time_zone": "Nowhere/City"}},
            "VALIDATION_ERROR",
            "time_zone",
        ),
        ({"recurrence": WEEKLY}, "INVALID_RECURRENCE", "due"),
        (
            {
                "due_at": "2026-11-30T09:00:00Z",
                "recurrence": {**WEEKLY, "rule": "FREQ=DAILY;UNTIL=20261231"},
            },
            "INVALID_RECURRENCE",
            "UNTIL",
        ),
        (
            {
                "due_date": "2026-11-30",
                "recurrence": {**WEEKLY, "rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"},
            },
            "VALIDATION_ERROR",
            "BYMONTHDAY",
        ),
    ]
    for body, code, part in cases:
        response = await client.post("/api/tasks", json={"title": "x", **body}, headers=auth(ALICE))
        assert_error(response, 400, code, mentions=(part,))
    assert await all_rows(app) == []


async def test_clearing_the_due_of_a_recurring_task_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(
        client, due_date="2026-11-30", recurrence={**WEEKLY, "time_zone": "UTC"}
    )
    before = await all_rows(app)
    response = await client.put(
        f"/api/tasks/{task['id']}", json={"due_date": None}, headers=auth(ALICE)
    )
    assert_error(response, 400, "INVALID_RECURRENCE", mentions=("due",))
    assert await all_rows(app) == before
    stopped = await client.put(
        f"/api/tasks/{task['id']}", json={"recurrence": None, "due_date": None}, headers=auth(ALICE)
    )
    assert stopped.status_code == 200, stopped.text
    assert (stopped.json()["recurrence"], stopped.json()["due_date"]) == (None, None)
    assert (await row_of(app, task["id"]))["recurrence"] is None


async def test_the_event_of_a_completion_says_which_occurrence_and_what_next(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, due_at="2026-11-30T09:00:00+01:00", recurrence=WEEKLY)
    await complete(client, task)
    async with sessionmaker_of(app)() as session:
        last = (await session.scalars(select(Event).order_by(Event.seq.desc()))).first()  # type: ignore[attr-defined]
    assert last is not None
    assert (str(last.entity_id), last.kind) == (task["id"], "updated")
    # Each database renders the instant its way: "2026-12-07T08:00:00+00:00" or "... 08:00:00".
    assert last.state["due_at"][:19].replace(" ", "T") == "2026-12-07T08:00:00"
    assert last.state["recurrence"]["last_completed"]["due_at"].startswith("2026-11-30T08:00:00")


async def test_skip_honours_if_match_and_idempotency_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(
        client, due_date="2026-11-30", recurrence={**WEEKLY, "time_zone": "UTC"}
    )
    path = f"/api/tasks/{task['id']}/skip"
    stale = await client.post(path, headers={**auth(ALICE), "If-Match": '"999"'})
    assert_error(stale, 412, "PRECONDITION_FAILED")
    assert (await row_of(app, task["id"]))["due_date"].isoformat() == "2026-11-30"
    headers = {**auth(ALICE), "Idempotency-Key": "skip-1", "If-Match": task["etag"]}
    first = await client.post(path, headers=headers)
    again = await client.post(path, headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert first.json() == again.json()
    assert (await row_of(app, task["id"]))["due_date"].isoformat() == "2026-12-07"  # moved once
