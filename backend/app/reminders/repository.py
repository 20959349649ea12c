"""Every query of the `reminders` table. Planning replaces a task's rows in the task write's
transaction; firing claims due rows by id under the owner's change counter (taken first, as by
every write), so a reminder is claimed by exactly one transaction: the claim's
`fired_at IS NULL` is rechecked under the row lock, and a second claimer finds it set."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
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


_DUE = (
    select(_C.id, _C.user_id)
    .where(_C.fired_at.is_(None), _C.fire_at <= bindparam("now", type_=UTCDateTime()))
    .order_by(_C.fire_at)
    .limit(bindparam("limit", type_=Integer()))
)
# PostgreSQL: the due rows no other firing transaction holds, locked until commit (SKIP LOCKED):
# workers running at once take disjoint batches instead of racing for the same owners.
# SQLite runs one writer at a time: a plain read, rechecked by the claim.
_TAKE_DUE = {
    "postgresql": _DUE.with_for_update(skip_locked=True, key_share=True),
    "sqlite": _DUE,
}


async def take_due(connection: AsyncConnection, now: datetime, limit: int) -> list[Any]:
    """Up to `limit` unfired reminders whose time has come, oldest first, as (id, user_id): a
    read of the partial index only. On PostgreSQL they stay locked until the transaction ends,
    and those another transaction holds are skipped. The lock is taken without waiting and
    every later lock of the firing transaction too (`lock_counters` skips busy counters), so
    it cannot deadlock with a write that takes its owner's counter first."""
    statement = _TAKE_DUE[connection.dialect.name]
    return list(await connection.execute(statement, {"now": now, "limit": limit}))


_OWNERS: BindParameter[Any] = bindparam("owners", expanding=True)
# PostgreSQL: the counters of the owners no one else is writing for, locked in one order (every
# write takes its owner's counter first); an owner busy elsewhere waits for the next round.
# SQLite: a write, so the transaction holds the one write lock from here (the claim rechecks
# what `take_due` read before it).
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


def _claim(ids: ColumnElement[bool]) -> Any:
    return (
        update(REMINDERS)
        # Rechecked under the row lock: a reminder another transaction claimed meanwhile is left.
        .where(ids, _C.fired_at.is_(None), _C.fire_at <= bindparam("now", type_=UTCDateTime()))
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


_CLAIM = _claim(_C.id.in_(bindparam("ids", expanding=True)))
# PostgreSQL: the ids joined as rows, so each is one probe of the primary key whatever the
# statistics (an IN list, with `fired_at IS NULL` matching the partial indexes, planned as a
# scan of every unfired reminder on a fresh table).
_IDS = (
    func.unnest(bindparam("ids", type_=postgresql.ARRAY(Uuid())))
    .table_valued("id")
    .render_derived(name="ids")
)
_CLAIM_BY_JOIN = _claim(_C.id == _IDS.c.id)

# PostgreSQL: the claim and the read of the firing reminders' tasks in one statement (a reminder
# only ever reads its own owner's task; no task write of a locked owner can run meanwhile).
_CLAIMED = _CLAIM_BY_JOIN.cte("claimed")
_CLAIM_AND_READ = select(
    *_CLAIMED.c, *(TASKS.c[name].label(f"state_{name}") for name in TASK_STATE)
).select_from(
    _CLAIMED.outerjoin(
        TASKS,
        and_(
            TASKS.c.id == _CLAIMED.c.task_id,
            TASKS.c.user_id == _CLAIMED.c.user_id,
            _CLAIMED.c.outcome != "dropped",
        ),
    )
)
_PREFIXED = [(f"state_{name}", name) for name in TASK_STATE]


async def claim(
    connection: AsyncConnection,
    ids: list[Any],
    now: datetime,
    oldest: datetime,
    late_before: datetime,
) -> tuple[list[Any], dict[tuple[str, Any], dict[str, Any]]]:
    """Marks those of reminders `ids` still unfired fired (after `lock_counters` took their
    owners' counters); returns them with their outcome (`dropped`: task completed, or older
    than `oldest`; `late`; `fired`), and the stored columns (as events hold them) of the tasks
    of those not dropped, by (owner, task id)."""
    parameters = {"ids": ids, "now": now, "oldest": oldest, "late_before": late_before}
    if connection.dialect.name != "postgresql":  # no data-modifying CTEs: two statements
        claimed = list(await connection.execute(_CLAIM, parameters))
        firing = [row for row in claimed if row.outcome != "dropped"]
        owners = list({row.user_id for row in firing})
        tasks = list({row.task_id for row in firing})
        return claimed, await task_states(connection, owners, tasks) if firing else {}
    claimed = []
    states: dict[tuple[str, Any], dict[str, Any]] = {}
    for row in await connection.execute(_CLAIM_AND_READ, parameters):
        claimed.append(row)
        if row.outcome != "dropped":
            values = row._mapping
            states[row.user_id, row.task_id] = {name: values[key] for key, name in _PREFIXED}
    return claimed, states


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
