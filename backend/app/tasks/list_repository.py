"""The list query for any filter and sort: one owner-scoped SELECT, ordered by one of the
`(user_id, <sort key>, id)` indexes, continued after a position (keyset) or an offset.

The default list (newest first, no filter, by offset) never comes here: it keeps the prebuilt
statement in app.repository.tasks.
"""

import functools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import OWNER, owned_by
from app.kit.keys import NO_DUE, microseconds, start_of_day
from app.models import metadata
from app.tasks.json_rows import task_json
from app.tasks.query import TEXT_SORTS, DueBound, SortKey, TaskFilter, TaskQuery
from app.tasks.repository import COLUMNS, JSON_KEYS, TASKS, TaskRecord, record

TAGS = metadata.tables["task_tags"]
C = TASKS.c
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The column each sort reads, and whether it runs backwards. "-due" has a column of its own
# (`due_key_desc`, read forwards) so tasks without a due date come last in both directions.
_SORT_COLUMNS: dict[tuple[SortKey, bool], tuple[Any, bool]] = {
    ("created_at", False): (C.created_at, False),
    ("created_at", True): (C.created_at, True),
    ("updated_at", False): (C.updated_at, False),
    ("updated_at", True): (C.updated_at, True),
    ("due", False): (C.due_key, False),
    ("due", True): (C.due_key_desc, False),
    ("priority", False): (C.priority, False),
    ("priority", True): (C.priority, True),
    ("title", False): (C.title_key, False),
    ("title", True): (C.title_key, True),
    ("position", False): (C.position, False),
    ("position", True): (C.position, True),
}
_TIMESTAMP_SORTS = ("created_at", "updated_at")
# What each integer sort key can hold. A cursor names a real row's key; one out of its column's
# range (forged, or from an older server) must be a 400, never a driver error.
_INSTANTS = (
    microseconds(datetime.min.replace(tzinfo=UTC)),
    microseconds(datetime.max.replace(tzinfo=UTC)),
)
_KEY_RANGES: dict[SortKey, tuple[int, int]] = {
    "priority": (0, 3),  # the priority_rank check constraint
    "due": (-NO_DUE, NO_DUE),  # due_key and due_key_desc: BIGINT
    "created_at": _INSTANTS,  # microseconds since 1970 of any datetime Python holds
    "updated_at": _INSTANTS,
}


class After:
    """Where a page starts: after the row with this sort key and id."""

    __slots__ = ("id", "key")

    def __init__(self, query: TaskQuery, key: int | str, id_: uuid.UUID) -> None:
        if isinstance(key, str) != (query.sort in TEXT_SORTS):
            raise TypeError("a cursor key of the wrong kind for this sort")
        if isinstance(key, int) and not _in_range(query.sort, key):
            raise OverflowError("a cursor key out of its column's range")
        self.key: Any = key
        if query.sort in _TIMESTAMP_SORTS:
            assert isinstance(key, int)
            self.key = _EPOCH + timedelta(microseconds=key)
        self.id = id_


def _in_range(sort: SortKey, key: int) -> bool:
    low, high = _KEY_RANGES[sort]
    return low <= key <= high


def cursor_key(query: TaskQuery, value: Any) -> int | str:
    """A row's sort key as a cursor stores it: timestamps as microseconds since the epoch."""
    if query.sort in _TIMESTAMP_SORTS:
        return microseconds(value)
    assert isinstance(value, int | str)
    return value


# A listed task, its id and its cursor key.
Listed = tuple[TaskRecord | str, uuid.UUID, int | str]


async def list_page(
    connection: AsyncConnection, owner: str, query: TaskQuery, *, as_json: bool = False, **page: Any
) -> list[Listed]:
    """Up to `limit` of the owner's tasks matching the query, each with its id and cursor key:
    as a `TaskRecord`, or `as_json`, its JSON text (app.tasks.json_rows).
    `page`: the arguments of `list_statement` after the query."""
    dialect = connection.dialect.name if as_json else None
    shape = _shape_of(query, page)
    if shape is None:
        statement = list_statement(owner, query, _columns(dialect), **page)
        rows = await connection.execute(statement)
    else:
        parameters = _parameters(owner, query, page)
        rows = await connection.execute(_prebuilt(shape, dialect), parameters)
    if as_json:
        return [(row[0], row[1], cursor_key(query, row[2])) for row in rows]
    return [(task := record(row), task["id"], cursor_key(query, row[-1])) for row in rows]


@functools.cache
def _columns(json_dialect: str | None) -> tuple[Any, ...]:
    """The task's columns; or in `json_dialect`, its JSON text and its id."""
    if json_dialect is None:
        return COLUMNS
    return (task_json(json_dialect, JSON_KEYS), C.id)


# The pages clients ask for most (one list, a parent's children, the top level; open or done;
# in any order, by cursor) are built once per shape, their values parameters: building a
# SELECT of every column per request costs more than the database spends on the page.
_Shape = tuple[SortKey, bool, bool | None, bool, bool, bool, bool, bool, bool, bool]


def _shape_of(query: TaskQuery, page: dict[str, Any]) -> _Shape | None:
    f = query.filter
    if f.priorities or f.tags or f.due_before or f.due_after or f.overdue or f.text is not None:
        return None
    return (
        query.sort,
        query.descending,
        f.completed,
        f.parent is not None,
        f.top_level,
        f.list_id is not None,
        f.no_list,
        page.get("after") is not None,
        bool(page.get("offset")),
        page.get("unchanged_since") is not None,
    )


@functools.cache
def _prebuilt(shape: _Shape, json_dialect: str | None) -> Select[Any]:
    sort, descending, completed, by_parent, top_level, by_list, no_list, *rest = shape
    after, offset, unchanged = rest
    column, backwards = _SORT_COLUMNS[sort, descending]
    conditions = [owned_by(TASKS)]
    if completed is not None:
        conditions.append(C.is_completed == completed)  # a value of the shape: bound once
    if by_parent:
        conditions.append(C.parent_id == bindparam("parent", type_=C.parent_id.type))
    elif top_level:
        conditions.append(C.parent_id.is_(None))
    if by_list:
        conditions.append(C.list_id == bindparam("list_id", type_=C.list_id.type))
    if no_list:
        conditions.append(C.list_id.is_(None))
    if unchanged:
        conditions.append(C.updated_at <= bindparam("unchanged_since", type_=C.updated_at.type))
    if after:
        start = tuple_(
            bindparam("after_key", type_=column.type), bindparam("after_id", type_=C.id.type)
        )
        position = tuple_(column, C.id)
        conditions.append(position < start if backwards else position > start)
    order = (column.desc(), C.id.desc()) if backwards else (column.asc(), C.id.asc())
    statement = select(*_columns(json_dialect), column).where(*conditions).order_by(*order)
    statement = statement.limit(bindparam("limit", type_=Integer()))
    return statement.offset(bindparam("offset", type_=Integer())) if offset else statement


def _parameters(owner: str, query: TaskQuery, page: dict[str, Any]) -> dict[str, Any]:
    after: After | None = page.get("after")
    return {
        OWNER: owner,
        "parent": query.filter.parent,
        "list_id": query.filter.list_id,
        "unchanged_since": page.get("unchanged_since"),
        "after_key": None if after is None else after.key,
        "after_id": None if after is None else after.id,
        "limit": page["limit"],
        "offset": page.get("offset", 0),
    }


def list_statement(
    owner: str,
    query: TaskQuery,
    columns: tuple[Any, ...] = COLUMNS,
    *,
    now: datetime,
    limit: int,
    after: After | None = None,
    offset: int = 0,
    unchanged_since: datetime | None = None,
) -> Select[Any]:
    """The page's SELECT: `columns` (the task's), then the sort key.

    `unchanged_since` leaves out rows written after that moment: a walk that started then never
    meets a row twice, even if an update moved it past the walk's position."""
    column, backwards = _SORT_COLUMNS[query.sort, query.descending]
    conditions = [owned_by(TASKS, owner), *_filter(query.filter, owner, now)]
    if unchanged_since is not None:
        conditions.append(C.updated_at <= unchanged_since)
    if after is not None:
        position = tuple_(column, C.id)
        start = (after.key, after.id)
        conditions.append(position < start if backwards else position > start)
    order = (column.desc(), C.id.desc()) if backwards else (column.asc(), C.id.asc())
    statement = select(*columns, column).where(*conditions).order_by(*order).limit(limit)
    return statement.offset(offset) if offset else statement


async def count(
    connection: AsyncConnection, owner: str, task_filter: TaskFilter, *, now: datetime
) -> int:
    """How many of the owner's tasks match the filter (the MCP overview's counts)."""
    conditions = [owned_by(TASKS, owner), *_filter(task_filter, owner, now)]
    statement = select(func.count()).select_from(TASKS).where(*conditions)
    return int((await connection.execute(statement)).scalar_one())


def _filter(task_filter: TaskFilter, owner: str, now: datetime) -> list[ColumnElement[bool]]:
    f = task_filter
    conditions: list[ColumnElement[bool]] = []
    if f.completed is not None:
        conditions.append(C.is_completed == f.completed)
    if f.parent is not None:
        conditions.append(C.parent_id == f.parent)
    elif f.top_level:
        conditions.append(C.parent_id.is_(None))
    if f.priorities:
        conditions.append(C.priority.in_(f.priorities))
    for tag in f.tags:
        tagged = select(TAGS.c.task_id).where(owned_by(TAGS, owner), TAGS.c.name_key == tag)
        conditions.append(C.id.in_(tagged))
    if f.due_before is not None:
        conditions.extend(_due_before(f.due_before))
    if f.overdue:
        conditions.extend(_due_before(DueBound.before(now)))
        conditions.append(C.is_completed.is_(False))
    if f.due_after is not None:
        conditions.extend(_due_after(f.due_after))
    if f.list_id is not None:
        conditions.append(C.list_id == f.list_id)
    if f.no_list:
        conditions.append(C.list_id.is_(None))
    if f.text is not None:
        pattern = f"%{_escape_like(f.text)}%"
        conditions.append(
            or_(
                C.title_key.like(pattern, escape="\\"),
                C.description_key.like(pattern, escape="\\"),
            )
        )
    return conditions


# A due range is a range of `due_key` (index-backed), refined per kind: timed tasks by their
# instant, all-day tasks by their date, so an all-day date never shifts across time zones.


def _due_before(bound: DueBound) -> list[ColumnElement[bool]]:
    key = max(microseconds(bound.instant), microseconds(start_of_day(bound.day)))
    return [
        C.due_key < key,
        or_(C.due_at.is_(None), C.due_at < bound.instant),
        or_(C.due_date.is_(None), C.due_date < bound.day),
    ]


def _due_after(bound: DueBound) -> list[ColumnElement[bool]]:
    key = min(microseconds(bound.instant), microseconds(start_of_day(bound.day)))
    return [
        and_(C.due_key > key, C.due_key < NO_DUE),
        or_(C.due_at.is_(None), C.due_at > bound.instant),
        or_(C.due_date.is_(None), C.due_date > bound.day),
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
