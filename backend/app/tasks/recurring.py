"""The task writes of recurrence and reminders: checking them against the task's due, moving a
recurring task to its next occurrence (completion or skip), recording completions, and
re-planning reminders. Each runs inside the caller's transaction, after
`family.locked_current` (the owner's change counter first, as every write)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.db.scope import owned_by
from app.errors import InvalidRecurrence, InvalidReminders, TaskNotRecurring
from app.kit.etags import Precondition
from app.kit.keys import due_keys
from app.models import metadata
from app.recurrence import series
from app.recurrence.rules import Recurrence, RuleError
from app.recurrence.series import Due
from app.reminders import planning
from app.reminders import service as reminders
from app.tasks import family, repository
from app.tasks.repository import TaskRecord

# The fields whose writes go through `checked_changes` (and so read the task first).
SCHEDULE_FIELDS = frozenset({"due_date", "due_at", "recurrence", "reminders"})
COMPLETIONS = metadata.tables["task_completions"]


def due_of(task: TaskRecord | dict[str, Any]) -> Due:
    return Due(task.get("due_date"), task.get("due_at"))


def checked_changes(current: TaskRecord | None, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with `recurrence` and `reminders` in their stored form, checked against the
    due the task will have (`current`: None for a new task); 400 naming what is wrong."""
    merged: dict[str, Any] = {**(dict(current) if current else {}), **changes}
    due = due_of(merged)
    checked = dict(changes)
    recurrence = changes.get("recurrence", _UNCHANGED)
    if recurrence is _UNCHANGED:
        recurrence = merged.get("recurrence")
        if recurrence is not None and ("due_date" in changes or "due_at" in changes):
            _check(Recurrence.of(recurrence), due)  # the same rule must fit the new due
    elif recurrence is not None:
        checked["recurrence"] = _check(
            Recurrence(
                recurrence["rule"], recurrence["time_zone"], recurrence["repeat_from"], None
            ),
            due,
        ).stored()
    if "reminders" in changes:
        written = changes["reminders"]
        checked["reminders"] = [_stored_reminder(r) for r in written] if written else None
    try:
        planning.check(checked.get("reminders", merged.get("reminders")), due.at)
    except planning.ReminderNeedsTime as error:
        raise InvalidReminders(str(error)) from None
    return checked


_UNCHANGED: Any = object()


def _check(recurrence: Recurrence, due: Due) -> Recurrence:
    try:
        fresh = series.checked(recurrence.rule, recurrence.time_zone, recurrence.repeat_from, due)
    except RuleError as error:
        raise InvalidRecurrence(str(error)) from None
    # A due moved by hand keeps what is left of COUNT.
    return (
        fresh
        if recurrence.remaining is None
        else Recurrence.of({**fresh.stored(), "remaining": recurrence.remaining})
    )


def _stored_reminder(reminder: dict[str, Any]) -> dict[str, str]:
    if reminder.get("before") is not None:
        return {"before": str(reminder["before"]).upper()}
    at: datetime = reminder["at"]
    return {"at": at.astimezone(UTC).isoformat()}


def completes_occurrence(current: TaskRecord, changes: dict[str, Any]) -> bool:
    """Completing an open recurring task moves it on instead."""
    return (
        changes.get("is_completed") is True
        and not current["is_completed"]
        and current["recurrence"] is not None
    )


async def move_on(
    connection: AsyncConnection,
    owner: str,
    current: TaskRecord,
    changes: dict[str, Any],
    now: datetime,
    *,
    completed: bool,
) -> TaskRecord:
    """The current occurrence is done (`completed`) or skipped: the task moves to the next one,
    its steps reopened and its reminders re-armed, or, when COUNT/UNTIL ran out, completes for
    good. A completion is recorded either way."""
    if current["recurrence"] is None:
        raise TaskNotRecurring()
    recurrence = Recurrence.of(current["recurrence"])
    due = due_of(current)
    step = series.next_step(recurrence, due, now)
    done = _occurrence(due)
    stored = {**step.recurrence.stored(), "last_completed" if completed else "last_skipped": done}
    others = {name: value for name, value in changes.items() if name != "is_completed"}
    if step.due is None:
        final = {**others, "is_completed": True, "recurrence": stored}
        task = await family.apply_update(connection, owner, current, final, now)
    else:
        keys = due_keys(step.due.date, step.due.at)
        following = {
            **others,
            "due_date": step.due.date,
            "due_at": step.due.at,
            "due_key": keys[0],
            "due_key_desc": keys[1],
            "recurrence": stored,
        }
        task = await family.apply_update(
            connection, owner, current, following, now, reopen_steps=True
        )
        await replan(connection, owner, task, now)
    if completed:
        await _record_completion(connection, owner, current, now)
    return task


def _occurrence(due: Due) -> dict[str, str | None]:
    return {
        "due_date": None if due.date is None else due.date.isoformat(),
        "due_at": None if due.at is None else due.at.isoformat(),
    }


async def replan(connection: AsyncConnection, owner: str, task: TaskRecord, now: datetime) -> None:
    await reminders.replan(connection, owner, task["id"], task["reminders"], task["due_at"], now)


async def _record_completion(
    connection: AsyncConnection, owner: str, current: TaskRecord, now: datetime
) -> None:
    row = {
        "id": uuid.uuid4(),
        "user_id": owner,
        "task_id": current["id"],
        "due_date": current["due_date"],
        "due_at": current["due_at"],
        "completed_at": now,
    }
    await connection.execute(insert(COMPLETIONS), [row])


_COMPLETIONS = (
    select(
        COMPLETIONS.c.id,
        COMPLETIONS.c.task_id,
        COMPLETIONS.c.due_date,
        COMPLETIONS.c.due_at,
        COMPLETIONS.c.completed_at,
    )
    .where(
        owned_by(COMPLETIONS),
        COMPLETIONS.c.task_id == bindparam("task_id"),
    )
    .order_by(COMPLETIONS.c.completed_at.desc(), COMPLETIONS.c.id)
    .limit(bindparam("limit", type_=Integer()))
    .offset(bindparam("offset", type_=Integer()))
)


async def completions(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The task's recorded completions, newest first."""
    parameters = {"owner": owner, "task_id": task_id, "limit": limit, "offset": offset}
    return [dict(row._mapping) for row in await connection.execute(_COMPLETIONS, parameters)]


async def skip_occurrence(
    database: Database, owner: str, task_id: uuid.UUID, if_match: Precondition | None
) -> TaskRecord:
    """Moves a recurring task to its next occurrence without recording a completion."""
    async with database.write(owner, several_statements=True) as connection:
        current = await family.locked_current(connection, owner, task_id, if_match)
        now = database.clock()
        return await move_on(connection, owner, current, {}, now, completed=False)


async def list_completions(
    database: Database, owner: str, task_id: uuid.UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    async with database.connect() as connection:
        await _owned(connection, owner, task_id)
        return await completions(connection, owner, task_id, limit, offset)


async def list_occurrences(
    database: Database,
    owner: str,
    task_id: uuid.UUID,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Due]:
    """The current due and the next ones in [start, end) (default: from now, a year); for a
    task that does not repeat, its due (whatever the range) or nothing."""
    async with database.connect() as connection:
        task = await _owned(connection, owner, task_id)
    start = database.clock() if start is None else start
    end = start + _YEAR if end is None else end
    if task["recurrence"] is None:  # a task that does not repeat: its due, if any
        due = due_of(task)
        return [due] if due.date or due.at else []
    return series.upcoming(Recurrence.of(task["recurrence"]), due_of(task), start, end, limit)


_YEAR = timedelta(days=366)


async def _owned(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> TaskRecord:
    task = await repository.get_task(connection, owner, task_id)
    if task is None:
        raise await family.why_not_owned(connection, task_id)
    return task
