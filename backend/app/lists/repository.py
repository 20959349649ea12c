"""Every lists query. Each one takes the owner and filters by it in SQL (`owned_by`), except
`list_exists`, which only answers whether an id exists at all (403 against 404).

Writes run inside the service's transaction, after `take_counter_lock` (app.db.sequenced): the
lists' events are written here, one per changed list, numbered with the list's new version."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import owned_by
from app.db.sequenced import append_events, event_row
from app.kit.etags import etag_of
from app.models import metadata
from app.models.base import UTCDateTime

LISTS = metadata.tables["lists"]
C = LISTS.c


class ListRecord(TypedDict):
    id: uuid.UUID
    name: str
    color: str | None
    position: str
    archived: bool
    created_at: datetime
    updated_at: datetime
    task_count: int
    open_task_count: int
    etag: str  # from the `version` column


_KEYS = tuple(key for key in ListRecord.__annotations__ if key != "etag")
COLUMNS = (*(C[key] for key in _KEYS), C.version)
# What a list's event holds: its own fields (the counts change with tasks, not with the list).
STATE = ("id", "name", "color", "position", "archived", "created_at", "updated_at")


def record(row: Sequence[Any]) -> ListRecord:
    return {
        "id": row[0],
        "name": row[1],
        "color": row[2],
        "position": row[3],
        "archived": row[4],
        "created_at": row[5],
        "updated_at": row[6],
        "task_count": row[7],
        "open_task_count": row[8],
        "etag": etag_of(row[9]),
    }


def version_of(list_: ListRecord) -> int:
    return int(list_["etag"].strip('"'))


_OWNED = select(*COLUMNS).where(owned_by(LISTS))
_PAGE = (
    _OWNED.order_by(C.position, C.id)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)
_GET = _OWNED.where(C.id == bindparam("list_id"))
_EXISTS = select(exists().where(C.id == bindparam("list_id")))
_COUNT = select(func.count()).select_from(LISTS).where(owned_by(LISTS))
_OTHERS = owned_by(LISTS) & (C.id != bindparam("list_id"))
_KEY = bindparam("key", type_=String())
_FIRST = select(func.min(C.position)).where(_OTHERS)
_LAST = select(func.max(C.position)).where(_OTHERS)
_NEXT = select(func.min(C.position)).where(_OTHERS, C.position > _KEY)
_PREVIOUS = select(func.max(C.position)).where(_OTHERS, C.position < _KEY)
_ORDER = select(C.id).where(_OTHERS).order_by(C.position, C.id)


async def list_lists(
    connection: AsyncConnection, owner: str, *, limit: int, offset: int
) -> list[ListRecord]:
    rows = await connection.execute(_PAGE, {"owner": owner, "limit": limit, "offset": offset})
    return [record(row) for row in rows]


async def get_list(
    connection: AsyncConnection, owner: str, list_id: uuid.UUID
) -> ListRecord | None:
    row = (await connection.execute(_GET, {"owner": owner, "list_id": list_id})).first()
    return None if row is None else record(row)


async def list_exists(connection: AsyncConnection, list_id: uuid.UUID) -> bool:
    return bool(await connection.scalar(_EXISTS, {"list_id": list_id}))


async def count_lists(connection: AsyncConnection, owner: str) -> int:
    return int(await connection.scalar(_COUNT, {"owner": owner}) or 0)


async def neighbour(
    connection: AsyncConnection, owner: str, moving: uuid.UUID | None, *, side: str, key: str = ""
) -> str | None:
    """The position next to `key` on `side` ("before", "after"), or the first or last of all
    ("first", "last"), among the owner's lists other than `moving`."""
    statement = {"first": _FIRST, "last": _LAST, "after": _NEXT, "before": _PREVIOUS}[side]
    # No list has the nil id: with no list moving, every list counts (`id != NULL` would not).
    parameters = {"owner": owner, "list_id": moving or uuid.UUID(int=0), "key": key}
    position: str | None = await connection.scalar(statement, parameters)
    return position


async def order_without(
    connection: AsyncConnection, owner: str, moving: uuid.UUID
) -> list[uuid.UUID]:
    """The ids of the owner's other lists, in order."""
    rows = await connection.execute(_ORDER, {"owner": owner, "list_id": moving})
    return [row[0] for row in rows]


_INSERT = insert(LISTS)


async def insert_list(
    connection: AsyncConnection, owner: str, new: ListRecord, version: int
) -> None:
    values = {key: new[key] for key in _KEYS}  # type: ignore[literal-required]
    await connection.execute(_INSERT, {**values, "user_id": owner, "version": version})
    await append_events(connection, [_event(owner, version, new, "created", new["created_at"])])


async def update_list(
    connection: AsyncConnection,
    owner: str,
    current: ListRecord,
    changes: dict[str, Any],
    now: datetime,
    version: int,
) -> ListRecord:
    """Writes `changes` (already known to differ) as the list's next version, with its event."""
    updated_at = max(current["updated_at"], now)  # never backwards
    statement = (
        update(LISTS)
        .where(C.id == bindparam("list_id"), owned_by(LISTS))
        .values(**{name: bindparam(f"new_{name}") for name in changes})
        .values(updated_at=bindparam("now", type_=UTCDateTime()), version=version)
        .returning(*COLUMNS)
    )
    parameters = {f"new_{name}": value for name, value in changes.items()}
    parameters |= {"owner": owner, "list_id": current["id"], "now": updated_at}
    row = (await connection.execute(statement, parameters)).one()
    written = record(row)
    await append_events(connection, [_event(owner, version, written, "updated", updated_at)])
    return written


_PLACE = (
    update(LISTS)
    .where(C.id == bindparam("list_id"), owned_by(LISTS))
    .values(position=bindparam("position", type_=String()))
)


async def respread(
    connection: AsyncConnection,
    owner: str,
    order: Sequence[ListRecord],
    keys: Sequence[str],
    now: datetime,
    first_version: int,
) -> list[ListRecord]:
    """Gives the lists in `order` the fresh `keys`, each as its next version with its event.
    Two passes: the unique (user, position) index must hold after every row."""
    for index, list_ in enumerate(order):
        parameters = {"owner": owner, "list_id": list_["id"], "position": f"~{index}"}
        await connection.execute(_PLACE, parameters)
    written = []
    for index, (list_, key) in enumerate(zip(order, keys, strict=True)):
        changes = {"position": key}
        written.append(
            await update_list(connection, owner, list_, changes, now, first_version + index)
        )
    return written


_DELETE = delete(LISTS).where(C.id == bindparam("list_id"), owned_by(LISTS))


async def delete_list(
    connection: AsyncConnection, owner: str, list_id: uuid.UUID, now: datetime, version: int
) -> None:
    """Deletes the list (its tasks must be gone or moved) and leaves its tombstone."""
    await connection.execute(_DELETE, {"owner": owner, "list_id": list_id})
    tombstone = event_row(owner, version, "list", list_id, "deleted", now, None)
    await append_events(connection, [tombstone])


def _event(owner: str, seq: int, list_: ListRecord, kind: str, at: datetime) -> dict[str, Any]:
    state: dict[str, Any] = {name: list_[name] for name in STATE}  # type: ignore[literal-required]
    state |= {
        "id": str(list_["id"]),
        "created_at": list_["created_at"].isoformat(),
        "updated_at": list_["updated_at"].isoformat(),
        "version": seq,
    }
    return event_row(owner, seq, "list", list_["id"], kind, at, state)


_CHANGED = (
    _OWNED.where(
        C.version > bindparam("since", type_=BigInteger()),
        C.version <= bindparam("until", type_=BigInteger()),
    )
    .order_by(C.version)
    .limit(bindparam("limit", type_=Integer()))
)


async def lists_changed(
    connection: AsyncConnection, owner: str, since: int, until: int, limit: int
) -> list[tuple[int, ListRecord]]:
    """The owner's lists whose last change is numbered in (since, until], oldest first."""
    parameters = {"owner": owner, "since": since, "until": until, "limit": limit}
    rows = await connection.execute(_CHANGED, parameters)
    return [(row[-1], record(row)) for row in rows]
