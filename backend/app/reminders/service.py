"""Reminders: planned with each write of a task's due or reminders (in its transaction), fired
by the `reminders.fire_due` job (app.jobs.catalogue), exactly once across every worker.

Firing writes one `reminder_fired` event per reminder into the outbox, in the transaction that
claims it: the task's stored columns as for every task event, plus `reminder` (its number among
the task's reminders, when it was due, and whether it fired late). A reminder is `late` when it
fires more than LATE_AFTER after its time (the poller runs every minute), and dropped without
an event when it is older than MAX_LATENESS (every worker was down that long) or its task is
completed. A deleted task's reminders go with it.
"""

import random
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.db.sequenced import append_events, event_row, take_counter_lock, take_seqs
from app.reminders import planning, repository

if TYPE_CHECKING:  # app.jobs imports this module (its catalogue)
    from app.jobs.base import JobContext

LATE_AFTER = timedelta(minutes=2)
MAX_LATENESS = timedelta(hours=24)
BATCH = 1000


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
    """Fires every reminder due at `now`, owner by owner, each owner's in one transaction; how
    many fired (late ones included). Safe to run in several processes at once."""
    fired = 0
    while True:
        async with database.connect() as connection:
            owners = await repository.due_owners(connection, now, BATCH)
        # Workers reading the same owners start at different ones, and skip an owner another
        # worker holds: they share the work instead of queueing on each other.
        random.shuffle(owners)
        for owner in owners:
            fired += await _fire(database, owner, now)
        if not owners:
            return fired


async def _fire(database: Database, owner: str, now: datetime) -> int:
    async with database.write(owner, several_statements=True) as connection:
        if await repository.taken_by_another(connection, owner):
            return 0
        await take_counter_lock(connection, owner)  # before any reminder row, as every write
        claimed = await repository.claim(
            connection, owner, now, now - MAX_LATENESS, now - LATE_AFTER, BATCH
        )
        firing = [row for row in claimed if row.outcome != "dropped"]
        if not firing:
            return 0
        states = await repository.task_states(
            connection, owner, list({row.task_id for row in firing})
        )
        first = await take_seqs(connection, owner, len(firing))
        events = [
            event_row(
                owner,
                first + offset,
                "task",
                row.task_id,
                "reminder_fired",
                now,
                _state(states[row.task_id], row),
            )
            for offset, row in enumerate(firing)
        ]
        await append_events(connection, events)
    return len(firing)


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
