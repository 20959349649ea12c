"""Every tasks query. Each one takes the owner and filters by it in SQL.

The single exception is `task_exists`, which answers only "is there such an id at all?" so
the API can tell 403 from 404; it returns a boolean and never loads another user's row.

Queries are SQLAlchemy Core on the `Task` table and return plain `TaskRecord` dicts: rows go to
JSON without building ORM objects first.
"""

import functools
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypedDict

from sqlalchemy import (
    BigInteger,
    Integer,
    bindparam,
    case,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Select

from app.db.scope import owned_by
from app.db.sequenced import (
    Seq,
    SequencedDelete,
    SequencedInsertIfRoom,
    SequencedWrite,
    seq_taken_first,
)
from app.kit.etags import etag_of
from app.models import metadata
from app.models.base import UTCDateTime, greatest
from app.tasks.json_rows import task_json
from app.tasks.schemas import PRIORITIES

# The table's columns, typed (the model's attributes are typed as Python values instead).
TASKS = metadata.tables["tasks"]
ID, USER_ID, CREATED_AT, UPDATED_AT, VERSION = (
    TASKS.c.id,
    TASKS.c.user_id,
    TASKS.c.created_at,
    TASKS.c.updated_at,
    TASKS.c.version,
)


class TaskRecord(TypedDict):
    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    is_completed: bool
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    due_date: date | None
    due_at: datetime | None
    priority: str
    tags: list[str]
    parent_id: uuid.UUID | None
    position: str
    subtask_count: int
    open_subtask_count: int
    list_id: uuid.UUID | None
    recurrence: dict[str, Any] | None  # app.recurrence
    reminders: list[dict[str, Any]] | None  # app.reminders
    etag: str  # from the `version` column


_KEYS = tuple(key for key in TaskRecord.__annotations__ if key != "etag")
COLUMNS = (*(TASKS.c[key] for key in _KEYS), VERSION)


def record(row: Sequence[Any]) -> TaskRecord:
    # Spelled out: four times faster than dict(zip(...)), and this runs once per row.
    (
        id_,
        user_id,
        title,
        description,
        is_completed,
        created_at,
        updated_at,
        completed_at,
        due_date,
        due_at,
        priority,
        tags,
        parent_id,
        position,
        subtask_count,
        open_subtask_count,
        list_id,
        recurrence,
        reminders,
        version,
    ) = row[:20]
    return {
        "id": id_,
        "user_id": user_id,
        "title": title,
        "description": description,
        "is_completed": is_completed,
        "created_at": created_at,
        "updated_at": updated_at,
        "completed_at": completed_at,
        "due_date": due_date,
        "due_at": due_at,
        "priority": PRIORITIES[priority],
        "tags": tags,
        "parent_id": parent_id,
        "position": position,
        "subtask_count": subtask_count,
        "open_subtask_count": open_subtask_count,
        "list_id": list_id,
        "recurrence": recurrence,
        "reminders": reminders,
        "etag": etag_of(version),
    }


# Statements are built once, with named parameters: a request pays neither for building one nor
# for its cache key (memoised on the statement), only for binding values.
_OWNED = select(*COLUMNS).where(owned_by(TASKS))
_GET = _OWNED.where(ID == bindparam("task_id"))


def _newest_first(*columns: ColumnElement[Any]) -> Select[Any]:
    return (
        select(*columns)
        .where(owned_by(TASKS))
        .order_by(CREATED_AT.desc(), ID.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


_LIST = _newest_first(*COLUMNS)
# A list page's rows as the API's JSON, written by the database (app.tasks.json_rows).
JSON_KEYS = tuple(TaskRecord.__annotations__)
_LIST_JSON = {name: _newest_first(task_json(name, JSON_KEYS)) for name in ("postgresql", "sqlite")}
# One task as the API's JSON, and its version for the ETag: written by the database, as list
# pages are (a GET then decodes and encodes no column in Python).
_GET_JSON = {
    name: select(task_json(name, JSON_KEYS), VERSION).where(
        owned_by(TASKS), ID == bindparam("task_id")
    )
    for name in ("postgresql", "sqlite")
}
_EXISTS = select(exists().where(ID == bindparam("task_id")))
_BY_IDS = _OWNED.where(ID.in_(bindparam("task_ids", expanding=True)))


async def list_tasks(
    connection: AsyncConnection, owner: str, *, limit: int, offset: int
) -> list[TaskRecord]:
    rows = await connection.execute(_LIST, {"owner": owner, "limit": limit, "offset": offset})
    return [record(row) for row in rows]


async def list_tasks_json(
    connection: AsyncConnection, owner: str, *, limit: int, offset: int
) -> list[str]:
    """`list_tasks`, each task as its JSON text."""
    statement = _LIST_JSON[connection.dialect.name]
    rows = await connection.execute(statement, {"owner": owner, "limit": limit, "offset": offset})
    return list(rows.scalars())


async def get_task(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID
) -> TaskRecord | None:
    row = (await connection.execute(_GET, {"owner": owner, "task_id": task_id})).first()
    return None if row is None else record(row)


async def get_task_json(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID
) -> tuple[str, int] | None:
    """`get_task` as its JSON text, with its version."""
    statement = _GET_JSON[connection.dialect.name]
    row = (await connection.execute(statement, {"owner": owner, "task_id": task_id})).first()
    return None if row is None else (row[0], row[1])


async def tasks_by_ids(
    connection: AsyncConnection, owner: str, task_ids: list[uuid.UUID]
) -> list[TaskRecord]:
    rows = await connection.execute(_BY_IDS, {"owner": owner, "task_ids": task_ids})
    return [record(row) for row in rows]


# Nullable columns with no default of any kind: to leave one out is to write NULL.
_NULL_UNLESS_GIVEN = frozenset(
    column.name
    for column in TASKS.c
    if column.nullable and column.default is None and column.server_default is None
)


@functools.cache
def _insert(names: tuple[str, ...]) -> SequencedInsertIfRoom:
    return SequencedInsertIfRoom(TASKS, names)


async def insert_task(
    connection: AsyncConnection, columns: dict[str, Any], max_tasks: int
) -> str | None:
    """`columns`: every column's value, the derived ones (app.kit.keys) and the priority's rank
    included; the new task's ETag (the database numbers its version), or None when the owner
    already has `max_tasks` tasks (nothing is written)."""
    # A column left out is NULL: a plain task binds a third fewer values (statements cached
    # per set of columns given, of which there are few).
    parameters = {
        name: value
        for name, value in columns.items()
        if value is not None or name not in _NULL_UNLESS_GIVEN
    }
    statement = _insert(tuple(parameters))
    parameters["owner"], parameters["max_tasks"] = columns["user_id"], max_tasks
    version = await statement.execute(connection, parameters)
    return None if version is None else etag_of(version)


def _owned_task(
    seq: Seq, guarded: bool, leaf_only: bool = False, not_recurring: bool = False
) -> ColumnElement[bool]:
    """This id, this owner, and with `guarded`, a version among the If-Match ones; with
    `leaf_only`, a task with no parent and no children (a write of one needs no cascade)."""
    condition = (ID == bindparam("task_id")) & owned_by(TASKS)
    condition &= seq_taken_first(seq)
    if guarded:
        condition &= VERSION.in_(bindparam("versions", type_=BigInteger(), expanding=True))
    if leaf_only:
        condition &= TASKS.c.parent_id.is_(None) & (TASKS.c.subtask_count == 0)
    if not_recurring:  # completing a recurring task moves it on (app.tasks.recurring)
        condition &= TASKS.c.recurrence.is_(None)
    return condition


_CHILD = TASKS.alias("child")


def _children_count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
    """How many children the updated row has (meeting `conditions`): index-backed by
    `(user_id, parent_id, position, id)`, bounded by MAX_SUBTASKS_PER_PARENT."""
    return (
        select(func.count())
        .select_from(_CHILD)
        .where(_CHILD.c.user_id == USER_ID, _CHILD.c.parent_id == ID, *conditions)
        .scalar_subquery()
    )


def children_count_statement() -> Any:
    """The recount's subquery on its own, for the plan test (tests/tasks/test_list_plans.py)."""
    return (
        select(_children_count())
        .select_from(TASKS)
        .where(ID == bindparam("task_id"), owned_by(TASKS))
    )


@functools.cache
def _update_statement(
    fields: tuple[str, ...], guarded: bool, leaf_only: bool = False, recount: bool = False
) -> SequencedWrite:
    """One UPDATE that sets only the given columns, so concurrent updates of different
    fields never overwrite each other; `updated_at` and `version` move only if a value really
    differs, and `completed_at` only when `is_completed` does. With `guarded`, the If-Match
    check is part of the same statement; with `leaf_only`, it writes only a task without parent
    and children; with `recount`, it also sets the children's counts from the children."""
    new: dict[str, Any] = {
        name: bindparam(f"new_{name}", type_=TASKS.c[name].type) for name in fields
    }
    if recount:
        new["subtask_count"] = _children_count()
        new["open_subtask_count"] = _children_count(_CHILD.c.is_completed == false())
    really_changed = or_(*(TASKS.c[name].is_distinct_from(value) for name, value in new.items()))
    # The counts are derived from other rows: a change of them alone leaves `updated_at` alone
    # (a move does move it: cursor walks rely on that, app.tasks.service._cursor_page).
    own_change = or_(false(), *(TASKS.c[name].is_distinct_from(new[name]) for name in fields))
    if "is_completed" in new:
        new["completed_at"] = _completed_at(new["is_completed"])
    return SequencedWrite.build(
        lambda seq: (
            update(TASKS)
            .where(_owned_task(seq, guarded, leaf_only, leaf_only and "is_completed" in fields))
            .values(
                **new,
                # Never backwards: a writer that took `now` before waiting for the row lock may
                # commit after one that took a later `now`.
                updated_at=case(
                    (own_change, greatest(UPDATED_AT, bindparam("now", type_=UTCDateTime()))),
                    else_=UPDATED_AT,
                ),
                version=case((really_changed, seq), else_=VERSION),
            )
            .returning(*COLUMNS)
        )
    )


def _completed_at(completed: Any) -> Any:
    """Now when the task becomes completed, null when it is reopened, else unchanged."""
    now = bindparam("now", type_=UTCDateTime())
    is_completed = TASKS.c.is_completed
    return case(
        (not_(completed), None),
        (is_completed == false(), now),
        else_=TASKS.c.completed_at,
    )


async def update_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
    versions: list[int] | None = None,
    *,
    leaf_only: bool = False,
    recount: bool = False,
) -> TaskRecord | None:
    """None if no such task of `owner`, or (given `versions`) its version is not one of them,
    or (with `leaf_only`) it has a parent or children. `recount`: see `_update_statement`."""
    statement = _update_statement(tuple(sorted(changes)), versions is not None, leaf_only, recount)
    values = {f"new_{name}": value for name, value in changes.items()}
    parameters = {"owner": owner, "task_id": task_id, "now": now, "versions": versions, **values}
    row = (await statement.execute(connection, parameters)).first()
    return None if row is None else record(row)


def _delete_statement(guarded: bool, leaf_only: bool) -> SequencedDelete:
    return SequencedDelete(lambda seq: _owned_task(seq, guarded, leaf_only))


_DELETES = {
    (guarded, leaf_only): _delete_statement(guarded, leaf_only)
    for guarded in (False, True)
    for leaf_only in (False, True)
}


async def delete_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    now: datetime,
    versions: list[int] | None = None,
    *,
    leaf_only: bool = False,
) -> bool:
    """Deletes and leaves a tombstone; False as `update_task` returns None. (The task's tags
    go with it: ON DELETE CASCADE. Its children do not: app.tasks.family deletes them first.)"""
    statement = _DELETES[versions is not None, leaf_only]
    parameters = {"owner": owner, "task_id": task_id, "now": now, "versions": versions}
    return await statement.execute(connection, parameters)


async def task_exists(connection: AsyncConnection, task_id: uuid.UUID) -> bool:
    return bool(await connection.scalar(_EXISTS, {"task_id": task_id}))


_CHANGED = (
    _OWNED.where(
        VERSION > bindparam("since", type_=BigInteger()),
        VERSION <= bindparam("until", type_=BigInteger()),
    )
    .order_by(VERSION)
    .limit(bindparam("limit", type_=Integer))
)


async def tasks_changed(
    connection: AsyncConnection, owner: str, since: int, until: int, limit: int
) -> list[tuple[int, TaskRecord]]:
    """The owner's tasks whose last change is numbered in (since, until], oldest change first."""
    parameters = {"owner": owner, "since": since, "until": until, "limit": limit}
    rows = await connection.execute(_CHANGED, parameters)
    return [(row[-1], record(row)) for row in rows]
