"""The outbox: every task write appends its event (`events`) in the same statement as the
change, on both databases; a write that fails or changes nothing leaves none."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.models import Event
from tests.support.helpers import ALICE, BOB, assert_error, auth, create_task, sessionmaker_of

QUOTA = 2


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_tasks_per_user": QUOTA}


async def events_of(app: FastAPI) -> list[dict[str, Any]]:
    async with sessionmaker_of(app)() as session:
        order = (Event.__table__.c.scope_id, Event.__table__.c.seq)  # type: ignore[attr-defined]
        rows = await session.scalars(select(Event).order_by(*order))
        return [row.model_dump() for row in rows]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, int, str, str, str]]:
    return [(e["scope_id"], e["seq"], str(e["entity_id"]), e["kind"], e["actor"]) for e in events]


async def test_each_write_appends_its_event_with_the_new_state(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="Write it", tags=["a"])
    url, headers = f"/api/tasks/{task['id']}", auth(ALICE)
    renamed = await client.put(url, json={"title": "Renamed"}, headers=headers)
    completed = await client.put(url, json={"is_completed": True}, headers=headers)
    deleted = await client.delete(url, headers=headers)

    assert [r.status_code for r in (renamed, completed, deleted)] == [200, 200, 204]
    events = await events_of(app)
    tid = task["id"]
    assert summary(events) == [
        (ALICE, 1, tid, "created", ALICE),
        (ALICE, 2, tid, "updated", ALICE),
        (ALICE, 3, tid, "completed", ALICE),
        (ALICE, 4, tid, "deleted", ALICE),
    ]
    assert {e["entity_type"] for e in events} == {"task"}
    created, updated, done, gone = (e["state"] for e in events)
    assert (created["title"], created["tags"], created["version"]) == ("Write it", ["a"], 1)
    assert (updated["title"], bool(updated["is_completed"])) == ("Renamed", False)
    assert (done["title"], bool(done["is_completed"]), done["version"]) == ("Renamed", True, 3)
    assert gone is None  # the tombstone
    assert all(e["occurred_at"].tzinfo is not None for e in events)


async def test_events_are_numbered_per_scope(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_task(client, ALICE, title="alice's")
    await create_task(client, BOB, title="bob's")

    assert [(e["scope_id"], e["seq"]) for e in await events_of(app)] == [(ALICE, 1), (BOB, 1)]


async def test_a_write_that_fails_or_changes_nothing_leaves_no_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client, title="Same")
    url = f"/api/tasks/{task['id']}"
    unchanged = await client.put(url, json={"title": "Same"}, headers=auth(ALICE))
    stale = await client.put(
        url, json={"title": "Stale"}, headers={**auth(ALICE), "If-Match": '"999"'}
    )
    stale_delete = await client.delete(url, headers={**auth(ALICE), "If-Match": '"999"'})
    forbidden = await client.put(url, json={"title": "Bob's now"}, headers=auth(BOB))
    await create_task(client, title="second")
    over_quota = await client.post("/api/tasks", json={"title": "third"}, headers=auth(ALICE))

    assert unchanged.status_code == 200
    assert_error(stale, 412, "PRECONDITION_FAILED")
    assert_error(stale_delete, 412, "PRECONDITION_FAILED")
    assert_error(forbidden, 403, "TASK_FORBIDDEN")
    assert_error(over_quota, 409, "TASK_QUOTA_EXCEEDED")
    kinds = [(e["seq"], e["kind"], e["state"]["title"]) for e in await events_of(app)]
    assert [(kind, title) for _, kind, title in kinds] == [
        ("created", "Same"),
        ("created", "second"),
    ]
