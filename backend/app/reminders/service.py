"""Reminders: planned with each write of a task's due or reminders (in its transaction), fired
by the `reminders.fire_due` job (app.jobs.catalogue), exactly once across every worker.

Firing writes one `reminder_fired` event per reminder into the outbox, in the transaction that
claims it: the task's stored columns as for every task event, plus `reminder` (its number among
the task's reminders, when it was due, and whether it fired late). A reminder is `late` when it
fires more than LATE_AFTER after its time (the poller runs every minute), and dropped without
an event when it is older than MAX_LATENESS (every worker was down that long) or its task is
completed. A deleted task's reminders go with it.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.db.sequenced import append_events, event_row, take_seqs_for_many
from app.reminders import planning, repository

if TYPE_CHECKING:  # app.jobs imports this module (its catalogue)
    from app.jobs.base import JobContext

LATE_AFTER = timedelta(minutes=2)
MAX_LATENESS = timedelta(hours=24)
# Reminders one transaction fires (of as many owners): one commit for many one-reminder owners.
PER_TRANSACTION = 1000


async def replan(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    reminders: Sequence[dict[str, Any]] | None,
    due_at: datetime | None,
    now: datetime,
) -> None:
    """In the task write's transaction: the task's firings from its due and reminders."""
    times = list(planning.fire_times(reminders, due_at, now))
    await repository.replace_plan(connection, owner, task_id, times)


async def fire_due(database: Database, now: datetime) -> int:
    """Fires every reminder due at `now`, PER_TRANSACTION at a time, each batch in one
    transaction; how many fired (late ones included). Safe to run in several processes at
    once: on PostgreSQL each takes due reminders no other holds (SKIP LOCKED), and an owner
    whose counter another transaction holds is left to the next round. Returns when nothing
    due is left that another transaction does not hold."""
    fired = 0
    while True:
        count = await _fire_batch(database, now)
        if count is None:
            return fired
        fired += count


async def _fire_batch(database: Database, now: datetime) -> int | None:
    """One transaction: how many it fired, None when nothing was due."""
    written: list[str] = []
    async with database.write_for_many(written) as connection:
        due = await repository.take_due(connection, now, PER_TRANSACTION)
        if not due:
            return None
        # Their counters before any write (every write takes its owner's counter first).
        free = set(await repository.lock_counters(connection, sorted({row.user_id for row in due})))
        ids = [row.id for row in due if row.user_id in free]
        if not ids:
            return 0
        claimed, states = await repository.claim(
            connection, ids, now, now - MAX_LATENESS, now - LATE_AFTER
        )
        firing = [row for row in claimed if row.outcome != "dropped"]
        if not firing:
            return 0
        by_owner = _by_owner(firing)
        firsts = await take_seqs_for_many(
            connection, {owner: len(rows) for owner, rows in by_owner.items()}
        )
        events = [
            event_row(
                owner,
                firsts[owner] + offset,
                "task",
                row.task_id,
                "reminder_fired",
                now,
                _state(states[owner, row.task_id], row),
            )
            for owner, rows in by_owner.items()
            for offset, row in enumerate(rows)
        ]
        written.extend(by_owner)
        await append_events(connection, events)
    return len(firing)


def _by_owner(rows: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.user_id, []).append(row)
    return grouped


def _state(task: dict[str, Any], reminder: Any) -> dict[str, Any]:
    state = {name: _json(value) for name, value in task.items()}
    state["reminder"] = {
        "id": str(reminder.id),
        "number": reminder.number,
        "fire_at": reminder.fire_at.isoformat(),
        "late": reminder.outcome == "late",
    }
    return state


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value


async def fire_due_job(context: "JobContext") -> None:
    """The periodic job: every reminder due now."""
    await fire_due(context.database, context.database.clock())
