"""Every query of the `reminders` table. Planning replaces a task's rows in the task write's
transaction; firing claims due rows by id under the owner's change counter (taken first, as by
every write), so a reminder is claimed by exactly one transaction: the claim's
`fired_at IS NULL` is rechecked under the row lock, and a second claimer finds it set."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    delete,
    exists,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import owned_by
from app.db.sequenced import TASK_STATE, TASKS
from app.models import metadata
from app.models.base import UTCDateTime

REMINDERS = metadata.tables["reminders"]
_C = REMINDERS.c

_DELETE_PLAN = delete(REMINDERS).where(_C.task_id == bindparam("task_id"), owned_by(REMINDERS))


async def replace_plan(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    times: list[tuple[int, datetime]],
) -> None:
    """The task's planned firings become `times` (fired ones are forgotten too: a new plan)."""
    await connection.execute(_DELETE_PLAN, {"task_id": task_id, "owner": owner})
    if times:
        rows = [
            {"id": uuid.uuid4(), "user_id": owner, "task_id": task_id, "number": n, "fire_at": at}
            for n, at in times
        ]
        await connection.execute(insert(REMINDERS), rows)


_DUE_OWNERS = (
    select(_C.user_id)
    .where(_C.fired_at.is_(None), _C.fire_at <= bindparam("now", type_=UTCDateTime()))
    .order_by(_C.fire_at)
    .limit(bindparam("limit", type_=Integer()))
)


async def due_owners(connection: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """The owners of up to `limit` unfired reminders whose time has come, oldest first, each
    once. A read of the partial index only; claiming is `claim`'s."""
    rows = await connection.execute(_DUE_OWNERS, {"now": now, "limit": limit})
    return list(dict.fromkeys(row.user_id for row in rows))


_TASK_COMPLETED = exists().where(TASKS.c.id == _C.task_id, TASKS.c.is_completed == true())
_OWNERS_DUE = (
    select(_C.id)
    .where(
        owned_by(REMINDERS),
        _C.fired_at.is_(None),
        _C.fire_at <= bindparam("now", type_=UTCDateTime()),
    )
    .limit(bindparam("limit", type_=Integer()))
)
_CLAIM = (
    update(REMINDERS)
    # Rechecked under the row lock: a reminder another transaction claimed meanwhile is left.
    .where(_C.id.in_(_OWNERS_DUE.scalar_subquery()), _C.fired_at.is_(None))
    .values(
        fired_at=bindparam("now", type_=UTCDateTime()),
        outcome=case(
            (_TASK_COMPLETED, "dropped"),
            (_C.fire_at < bindparam("oldest", type_=UTCDateTime()), "dropped"),
            (_C.fire_at < bindparam("late_before", type_=UTCDateTime()), "late"),
            else_="fired",
        ),
    )
    .returning(_C.id, _C.task_id, _C.number, _C.fire_at, _C.outcome)
)


async def claim(
    connection: AsyncConnection,
    owner: str,
    now: datetime,
    oldest: datetime,
    late_before: datetime,
    limit: int,
) -> list[Any]:
    """Marks up to `limit` of the owner's due reminders fired; returns them with their
    outcome: `dropped` (task completed, or older than `oldest`), `late`, `fired`."""
    parameters = {
        "owner": owner,
        "now": now,
        "oldest": oldest,
        "late_before": late_before,
        "limit": limit,
    }
    return list(await connection.execute(_CLAIM, parameters))


_OWNER_BUSY = text("SELECT NOT pg_try_advisory_xact_lock(hashtext('reminders:' || :owner))")


async def taken_by_another(connection: AsyncConnection, owner: str) -> bool:
    """PostgreSQL: another worker is firing this owner's reminders right now (it holds the
    owner's transaction-scoped advisory lock), so this one moves on instead of queueing behind
    it. SQLite has one writer at a time: never."""
    if connection.dialect.name != "postgresql":
        return False
    return bool(await connection.scalar(_OWNER_BUSY, {"owner": owner}))


_STATES = select(*(TASKS.c[name] for name in TASK_STATE)).where(
    TASKS.c.id.in_(bindparam("ids", expanding=True)), owned_by(TASKS)
)


async def task_states(
    connection: AsyncConnection, owner: str, task_ids: list[Any]
) -> dict[Any, dict[str, Any]]:
    """The tasks' stored columns (as events hold them), by id."""
    rows = await connection.execute(_STATES, {"ids": task_ids, "owner": owner})
    return {row.id: dict(row._mapping) for row in rows}
