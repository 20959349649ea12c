"""The tasks' side of lists: whether a list may take a task (the caller's, with room), and the
writes of all of a list's tasks at once when the list is deleted.

The bulk writes run in the lists service's transaction, after `take_counter_lock`: every task they
change gets its own change number and event (on PostgreSQL a CTE of the statement, on SQLite
the sync triggers), so each one shows in delta sync and on the stream."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Insert, Select, Subquery, Update

from app.db.scope import caller, owned_by, scope_key
from app.db.sequenced import EVENTS, TASK_STATE, event_of, take_seqs
from app.errors import InvalidListId, ListFull
from app.models import metadata
from app.models.base import UTCDateTime, greatest

TASKS = metadata.tables["tasks"]
LISTS = metadata.tables["lists"]
_LIST = bindparam("list_id", type_=Uuid())
_NOW = bindparam("now", type_=UTCDateTime())
_FIRST = bindparam("first", type_=BigInteger())

_TASK_COUNT = select(LISTS.c.task_count).where(LISTS.c.id == _LIST, owned_by(LISTS))


async def task_count(connection: AsyncConnection, owner: str, list_id: uuid.UUID) -> int | None:
    """How many tasks the owner's list holds; None if it is not one of the owner's lists."""
    count: int | None = await connection.scalar(_TASK_COUNT, {"owner": owner, "list_id": list_id})
    return count


async def check_list(connection: AsyncConnection, owner: str, list_id: uuid.UUID) -> None:
    """Before the write: the list is the owner's (missing and another user's alike: 400)."""
    if await task_count(connection, owner, list_id) is None:
        raise InvalidListId()


async def check_room(
    connection: AsyncConnection, owner: str, list_id: uuid.UUID, max_tasks_per_list: int
) -> None:
    """After the write (a task, or a task with its subtree), which took the owner's change
    counter: the list's count is exact (no write of the owner's can run meanwhile), so over the
    limit the transaction rolls back."""
    count = await task_count(connection, owner, list_id)
    if count is None:
        raise InvalidListId()
    if count > max_tasks_per_list:
        raise ListFull()


_IN_LIST = owned_by(TASKS) & (TASKS.c.list_id == _LIST)
_COUNT_IN_LIST = select(func.count()).select_from(TASKS).where(_IN_LIST)


def _numbered() -> Subquery:
    """The list's tasks, each with its change number: `first` onwards, in id order."""
    number = _FIRST - 1 + func.row_number().over(order_by=TASKS.c.id)
    return select(TASKS.c.id, number.label("seq")).where(_IN_LIST).subquery("numbered")


def _move_statement() -> tuple[Select[Any], Update]:
    numbered = _numbered()
    moved = (
        update(TASKS)
        .where(TASKS.c.id == numbered.c.id)
        .values(
            list_id=bindparam("to_list"),
            version=numbered.c.seq,
            updated_at=greatest(TASKS.c.updated_at, _NOW),
        )
        .returning(*(TASKS.c[name] for name in TASK_STATE))
    )
    written = moved.cte("written")
    event = event_of(written, literal("updated", String()), written.c.updated_at)
    postgres = select(func.count()).select_from(written).add_cte(event)
    return postgres, moved  # SQLite: the sync triggers write each event


def _delete_statement() -> Insert:
    gone = delete(TASKS).where(_IN_LIST).returning(TASKS.c.id).cte("gone")
    seq = _FIRST - 1 + func.row_number().over(order_by=gone.c.id)
    rows = select(
        scope_key(),
        seq,
        literal("task", String()),
        gone.c.id,
        literal("deleted", String()),
        caller(),
        _NOW,
        null(),
    )
    columns = ["scope_id", "seq", "entity_type", "entity_id", "kind", "actor", "occurred_at"]
    return insert(EVENTS).from_select([*columns, "state"], rows)


_MOVE_POSTGRES, _MOVE_SQLITE = _move_statement()
_DELETE_POSTGRES = _delete_statement()
_DELETE_SQLITE = delete(TASKS).where(_IN_LIST)  # the delete trigger numbers each tombstone


async def move_all(
    connection: AsyncConnection, owner: str, from_list: uuid.UUID, to_list: uuid.UUID, now: datetime
) -> None:
    """Moves every task of `from_list` to `to_list`, each as its next version."""
    parameters = {"owner": owner, "list_id": from_list, "to_list": to_list, "now": now}
    count = await connection.scalar(_COUNT_IN_LIST, parameters)
    if not count:
        return
    parameters["first"] = await take_seqs(connection, owner, count)
    postgres = connection.dialect.name == "postgresql"
    await connection.execute(_MOVE_POSTGRES if postgres else _MOVE_SQLITE, parameters)


async def delete_all(
    connection: AsyncConnection, owner: str, list_id: uuid.UUID, now: datetime
) -> None:
    """Deletes every task of the list, each with its tombstone (their tags go with them)."""
    parameters: dict[str, object] = {"owner": owner, "list_id": list_id, "now": now}
    if connection.dialect.name != "postgresql":
        await connection.execute(_DELETE_SQLITE, parameters)
        return
    count = await connection.scalar(_COUNT_IN_LIST, parameters)
    if count:
        parameters["first"] = await take_seqs(connection, owner, count)
        await connection.execute(_DELETE_POSTGRES, parameters)
