"""The per-user change counter every task write goes through, and the reads of delta sync.

Each write of a user's tasks takes the next value of that user's counter (`user_sync.seq`) in
its own transaction. The counter's row lock is held until commit, so a user's writes commit in
`seq` order: once a reader sees the counter at M, every change numbered M or less is visible.
A global sequence or a clock read before commit has no such property: numbers are handed out
in one order and committed in another, and a reader can skip a number that commits later.

Each write stays one statement. On PostgreSQL the counter's upsert is a CTE of the write. SQLite
has no data-modifying CTEs: there the write reads the counter plus one, and triggers (see the
sync migration) store it back and record tombstones, in the same statement; SQLite runs one
writer at a time, so nobody can take the same number in between.

Each write also appends its event (the outbox, `events`) in that same statement: on
PostgreSQL another data-modifying CTE that selects from the write's RETURNING, on SQLite the
same triggers (migration 0006). So an event costs no round trip, and a write that fails or
writes nothing leaves no event.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    CTE,
    JSON,
    BigInteger,
    CursorResult,
    Executable,
    ScalarSelect,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import UpdateBase

from app.db.scope import caller, in_sync_scope, scope_key
from app.models import metadata
from app.models.base import UTCDateTime

USER_SYNC = metadata.tables["user_sync"]
EVENTS = metadata.tables["events"]
TASKS = metadata.tables["tasks"]
# The columns an event's state holds (SQLite's triggers list the same: migration 0006).
TASK_STATE = (
    "id",
    "title",
    "description",
    "is_completed",
    "created_at",
    "updated_at",
    "completed_at",
    "due_date",
    "due_at",
    "priority",
    "tags",
    "parent_id",
    "position",
    "subtask_count",
    "open_subtask_count",
    "version",
    "list_id",
    "recurrence",  # JSON text: which occurrence was completed, what is left (app.recurrence)
    "reminders",  # JSON text (app.reminders): a webhook's task is whole
)
# Columns holding JSON as text: the state embeds their value, not a string of it.
_JSON_TEXT = frozenset({"tags", "recurrence", "reminders"})
_EVENT_COLUMNS = [
    "scope_id",
    "seq",
    "entity_type",
    "entity_id",
    "kind",
    "actor",
    "occurred_at",
    "state",
]


# Constants in the SQL text rather than bound parameters (see _constant).
_ZERO, _ONE = literal_column("0", BigInteger()), literal_column("1", BigInteger())

_BUMP = (
    postgresql.insert(USER_SYNC)
    .values(user_id=scope_key(), seq=_ONE, purged_seq=_ZERO)
    .on_conflict_do_update(
        index_elements=[USER_SYNC.c.user_id], set_={"seq": USER_SYNC.c.seq + _ONE}
    )
    .returning(USER_SYNC.c.seq)
    .cte("bump")
)

Seq = ColumnElement[int] | ScalarSelect[int]
_POSTGRES_SEQ = select(_BUMP.c.seq).scalar_subquery()
_SQLITE_SEQ = (
    func.coalesce(
        select(USER_SYNC.c.seq).where(in_sync_scope(USER_SYNC.c.user_id)).scalar_subquery(),
        _ZERO,
    )
    + _ONE
)


@dataclass(frozen=True)
class SequencedWrite:
    """One write, built for each database from a function of "the next seq". Statements that
    lock task rows must also put `seq_taken_first(seq)` in their WHERE clause: every write then
    locks the counter before any task row, so two writes cannot deadlock."""

    postgres: Executable
    sqlite: UpdateBase

    @classmethod
    def build(cls, write: Callable[[Seq], UpdateBase]) -> "SequencedWrite":
        """`write`: an UPDATE of tasks returning at least the TASK_STATE columns. On PostgreSQL
        its event is a CTE of it: written only when the version really moved."""
        written = write(_POSTGRES_SEQ).cte("written")
        this_write_completed = written.c.is_completed & (
            written.c.completed_at == bindparam("now", type_=UTCDateTime())
        )
        kind = case((this_write_completed, _constant("completed")), else_=_constant("updated"))
        event = event_of(written, kind, written.c.updated_at, written.c.version == _POSTGRES_SEQ)
        postgres = select(*written.c).add_cte(event)
        return cls(postgres=postgres, sqlite=write(_SQLITE_SEQ))

    async def execute(
        self, connection: AsyncConnection, parameters: dict[str, Any]
    ) -> CursorResult[Any]:
        postgres = connection.dialect.name == "postgresql"
        return await connection.execute(self.postgres if postgres else self.sqlite, parameters)


def event_of(
    written: CTE,
    kind: ColumnElement[str],
    occurred_at: ColumnElement[Any],
    *only_if: ColumnElement[bool],
) -> CTE:
    """The event of the task row(s) a write's CTE returns, as another data-modifying CTE."""
    state = func.json_build_object(
        *(
            part
            for name in TASK_STATE
            for part in (
                _constant(name),
                cast(written.c[name], JSON) if name in _JSON_TEXT else written.c[name],
            )
        )
    )
    rows = select(
        scope_key(),
        written.c.version,
        _constant("task"),
        written.c.id,
        kind,
        caller(),
        occurred_at,
        state,
    ).where(*only_if)
    return insert(EVENTS).from_select(_EVENT_COLUMNS, rows).cte("event")


def _constant(value: str) -> ColumnElement[str]:
    """A fixed string written into the SQL text: a bound parameter would be sent, and walked
    by SQLAlchemy, on every execution. Only for the module's own names, never for input."""
    assert value.isidentifier()
    return literal_column(f"'{value}'", String())


def seq_taken_first(seq: Seq) -> ColumnElement[bool]:
    """A condition PostgreSQL evaluates once, before scanning ("One-Time Filter"): the
    counter's CTE runs, and locks the counter row, before any task row is locked. (SQLite
    needs none: a writer holds the whole database.)"""
    return seq.is_not(None) if seq is _POSTGRES_SEQ else true()


class SequencedDelete:
    """Deletes the task matching `condition` and records its tombstone, as one write."""

    def __init__(self, condition: Callable[[Seq], ColumnElement[bool]]) -> None:
        gone = delete(TASKS).where(condition(_POSTGRES_SEQ)).returning(TASKS.c.id).cte("gone")
        rows = select(
            scope_key(),
            _POSTGRES_SEQ,
            _constant("task"),
            gone.c.id,
            _constant("deleted"),
            caller(),
            bindparam("now", type_=UTCDateTime()),
            null(),
        )
        self.postgres = (
            insert(EVENTS).from_select(_EVENT_COLUMNS, rows).returning(EVENTS.c.entity_id)
        )
        # The tombstone (a `deleted` event) and the counter: the delete trigger.
        self.sqlite = delete(TASKS).where(condition(_SQLITE_SEQ)).returning(TASKS.c.id)

    async def execute(self, connection: AsyncConnection, parameters: dict[str, Any]) -> bool:
        """True if a task was deleted."""
        postgres = connection.dialect.name == "postgresql"
        result = await connection.execute(self.postgres if postgres else self.sqlite, parameters)
        return result.first() is not None


class SequencedInsertIfRoom:
    """Inserts one task (its columns `names` as parameters) numbered with the next seq, only
    while its owner has fewer than `max_tasks` tasks (`user_sync.task_count`, kept by triggers):
    one statement, so the quota costs no extra round trip. The count is read under the
    counter's lock (PostgreSQL: the upsert's WHERE sees the latest row; SQLite: a writing
    statement holds the database), so two creates racing for the last place cannot both pass.
    Without room it inserts nothing and returns no row."""

    def __init__(self, table: Table, names: Sequence[str]) -> None:
        values = [bindparam(name, type_=table.c[name].type) for name in names]
        max_tasks = bindparam("max_tasks", type_=BigInteger())
        bump_if_room = (
            postgresql.insert(USER_SYNC)
            .values(user_id=scope_key(), seq=_ONE, purged_seq=_ZERO)
            .on_conflict_do_update(
                index_elements=[USER_SYNC.c.user_id],
                set_={"seq": USER_SYNC.c.seq + _ONE},
                where=USER_SYNC.c.task_count < max_tasks,
            )
            .returning(USER_SYNC.c.seq)
            .cte("bump_if_room")
        )
        sqlite_room = func.coalesce(
            select(USER_SYNC.c.task_count)
            .where(in_sync_scope(USER_SYNC.c.user_id))
            .scalar_subquery(),
            0,
        )
        columns = [*names, "version"]
        written = (
            insert(table)
            .from_select(columns, select(*values, bump_if_room.c.seq))
            .returning(*(table.c[name] for name in TASK_STATE))
            .cte("written")
        )
        event = event_of(written, _constant("created"), written.c.created_at)
        self.postgres = select(written.c.version).add_cte(event)
        self.sqlite = (
            insert(table)
            .from_select(columns, select(*values, _SQLITE_SEQ).where(sqlite_room < max_tasks))
            .returning(table.c.version)
        )

    async def execute(self, connection: AsyncConnection, parameters: dict[str, Any]) -> int | None:
        """The new task's version, or None when its owner has no room left."""
        postgres = connection.dialect.name == "postgresql"
        result = await connection.execute(self.postgres if postgres else self.sqlite, parameters)
        version: int | None = result.scalar_one_or_none()
        return version


# --- writes of several entities in one transaction -------------------------------------------


def _counter_lock(dialect_insert: Any) -> Executable:
    statement: Executable = (
        dialect_insert(USER_SYNC)
        .values(user_id=scope_key(), seq=0, purged_seq=0)
        .on_conflict_do_update(index_elements=[USER_SYNC.c.user_id], set_={"seq": USER_SYNC.c.seq})
    )
    return statement


_COUNTER_LOCK = {
    "postgresql": _counter_lock(postgresql.insert),
    "sqlite": _counter_lock(sqlite.insert),
}


async def take_counter_lock(connection: AsyncConnection, owner: str) -> None:
    """First statement of a transaction that reads rows before it writes them (a cascade, a
    move): it holds the owner's change counter from here to the commit, so the rows read
    cannot change before they are written, and it locks in the order every write does
    (counter first). On SQLite it also takes the write lock before the first read."""
    await connection.execute(_COUNTER_LOCK[connection.dialect.name], {"owner": owner})


_TAKE = (
    update(USER_SYNC)
    .where(in_sync_scope(USER_SYNC.c.user_id))
    .values(seq=USER_SYNC.c.seq + bindparam("count", type_=BigInteger()))
    .returning(USER_SYNC.c.seq)
)


async def take_seqs(connection: AsyncConnection, owner: str, count: int) -> int:
    """The first of `count` new change numbers, after `take_counter_lock` (each entity a
    write changes gets its own, and its event is numbered with it)."""
    last: int = (await connection.execute(_TAKE, {"owner": owner, "count": count})).scalar_one()
    return last - count + 1


# Several owners' counters moved in one statement, each by its own count: (owner, count)
# pairs as one JSON parameter, joined as rows.
_TAKE_FOR_MANY = {
    "postgresql": text(
        "UPDATE user_sync SET seq = user_sync.seq + v.n"
        " FROM json_to_recordset(CAST(:counts AS json)) AS v(user_id text, n bigint)"
        " WHERE user_sync.user_id = v.user_id RETURNING user_sync.user_id, user_sync.seq"
    ),
    "sqlite": text(
        "UPDATE user_sync SET seq = user_sync.seq + v.n"
        " FROM (SELECT json_extract(value, '$.user_id') AS user_id,"
        " json_extract(value, '$.n') AS n"
        " FROM json_each(:counts)) AS v"
        " WHERE user_sync.user_id = v.user_id RETURNING user_sync.user_id, user_sync.seq"
    ),
}


async def take_seqs_for_many(connection: AsyncConnection, counts: dict[str, int]) -> dict[str, int]:
    """`take_seqs` for several owners at once (a job's batch, each owner's counter locked
    first): the first new change number of each."""
    pairs = orjson.dumps([{"user_id": owner, "n": n} for owner, n in counts.items()]).decode()
    rows = await connection.execute(_TAKE_FOR_MANY[connection.dialect.name], {"counts": pairs})
    return {owner: last - counts[owner] + 1 for owner, last in rows}


def event_row(
    owner: str, seq: int, entity_type: str, entity_id: Any, kind: str, at: Any, state: Any
) -> dict[str, Any]:
    """An event written by the application itself (entities without statement-built events)."""
    return {
        "scope_id": owner,
        "seq": seq,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "kind": kind,
        "actor": owner,
        "occurred_at": at,
        "state": state,
    }


async def append_events(connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await connection.execute(insert(EVENTS), list(rows))
