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
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from app.db.scope import owned_by
from app.db.sequenced import TASK_STATE, TASKS, USER_SYNC
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


_OWNERS: BindParameter[Any] = bindparam("owners", expanding=True)
# PostgreSQL: the counters of the owners no one else is writing for, locked in one order (every
# write takes its owner's counter first); an owner busy elsewhere waits for the next round.
# SQLite: a write first, so the transaction holds the one write lock before it reads.
_LOCK_COUNTERS = {
    "postgresql": select(USER_SYNC.c.user_id)
    .where(USER_SYNC.c.user_id.in_(_OWNERS))
    .order_by(USER_SYNC.c.user_id)
    .with_for_update(skip_locked=True),
    "sqlite": update(USER_SYNC)
    .where(USER_SYNC.c.user_id.in_(_OWNERS))
    .values(seq=USER_SYNC.c.seq)
    .returning(USER_SYNC.c.user_id),
}


async def lock_counters(connection: AsyncConnection, owners: list[str]) -> list[str]:
    """Takes the change counters of those of `owners` that are free; returns them."""
    statement = _LOCK_COUNTERS[connection.dialect.name]
    return list((await connection.execute(statement, {"owners": owners})).scalars())


_TASK_COMPLETED = exists().where(TASKS.c.id == _C.task_id, TASKS.c.is_completed == true())
_OWNERS_DUE = (
    select(_C.id)
    .where(
        _C.user_id.in_(_OWNERS),
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
    .returning(_C.id, _C.user_id, _C.task_id, _C.number, _C.fire_at, _C.outcome)
)


async def claim(
    connection: AsyncConnection,
    owners: list[str],
    now: datetime,
    oldest: datetime,
    late_before: datetime,
    limit: int,
) -> list[Any]:
    """Marks up to `limit` of the owners' due reminders fired (after `lock_counters`);
    returns them with their outcome: `dropped` (task completed, or older than `oldest`),
    `late`, `fired`."""
    parameters = {
        "owners": owners,
        "now": now,
        "oldest": oldest,
        "late_before": late_before,
        "limit": limit,
    }
    return list(await connection.execute(_CLAIM, parameters))


_STATES = select(TASKS.c.user_id, *(TASKS.c[name] for name in TASK_STATE)).where(
    TASKS.c.id.in_(bindparam("ids", expanding=True)), TASKS.c.user_id.in_(_OWNERS)
)


async def task_states(
    connection: AsyncConnection, owners: list[str], task_ids: list[Any]
) -> dict[tuple[str, Any], dict[str, Any]]:
    """The tasks' stored columns (as events hold them), by (owner, id): a reminder only ever
    reads its own owner's task."""
    rows = await connection.execute(_STATES, {"ids": task_ids, "owners": owners})
    states = {}
    for row in rows:
        state = dict(row._mapping)
        states[state.pop("user_id"), row.id] = state
    return states
