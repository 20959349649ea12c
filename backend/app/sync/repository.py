"""The reads of delta sync (the counter, and tombstones, the `deleted` events, since a point)
and the purge of old events. The writes that number each change are in app.db.sequenced."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import in_sync_scope
from app.db.sequenced import EVENTS, USER_SYNC
from app.models.base import UTCDateTime

# --- delta sync reads -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncState:
    seq: int  # every change numbered up to this one is committed and visible
    purged_seq: int  # tombstones up to this one are gone


_STATE = select(USER_SYNC.c.seq, USER_SYNC.c.purged_seq).where(in_sync_scope(USER_SYNC.c.user_id))
# Tombstones, and the fired reminders (app.reminders) in the same read: no extra query.
_EVENTS_SINCE = (
    select(
        EVENTS.c.seq,
        EVENTS.c.entity_id,
        EVENTS.c.entity_type,
        EVENTS.c.kind,
        EVENTS.c.state,
        EVENTS.c.occurred_at,
    )
    .where(
        in_sync_scope(EVENTS.c.scope_id),
        EVENTS.c.seq > bindparam("since", type_=BigInteger()),
        EVENTS.c.seq <= bindparam("until", type_=BigInteger()),
        EVENTS.c.entity_type.in_(bindparam("types", expanding=True)),
        EVENTS.c.kind.in_(("deleted", "reminder_fired")),
    )
    .order_by(EVENTS.c.seq)
    .limit(bindparam("limit", type_=Integer()))
)


@dataclass(frozen=True, slots=True)
class FiredReminder:
    seq: int
    task_id: uuid.UUID
    reminder: dict[str, Any]  # as the event describes it, with when it fired


async def sync_state(connection: AsyncConnection, owner: str) -> SyncState:
    row = (await connection.execute(_STATE, {"owner": owner})).first()
    return SyncState(0, 0) if row is None else SyncState(row.seq, row.purged_seq)


async def tombstones_since(
    connection: AsyncConnection,
    owner: str,
    since: int,
    until: int,
    limit: int,
    entity_types: tuple[str, ...] = ("task",),
) -> tuple[list[tuple[int, uuid.UUID, str]], list[FiredReminder]]:
    """The `deleted` events of these entity types numbered in (since, until], oldest first;
    and, in the same read, the `reminder_fired` ones (tasks')."""
    parameters = {
        "owner": owner,
        "since": since,
        "until": until,
        "limit": limit,
        "types": list(entity_types),
    }
    tombstones: list[tuple[int, uuid.UUID, str]] = []
    fired: list[FiredReminder] = []
    for row in await connection.execute(_EVENTS_SINCE, parameters):
        if row.kind == "deleted":
            tombstones.append((row.seq, row.entity_id, row.entity_type))
        else:
            reminder = {**row.state["reminder"], "fired_at": row.occurred_at}
            fired.append(FiredReminder(row.seq, row.entity_id, reminder))
    return tombstones, fired


# --- retention ------------------------------------------------------------------------------

_EXPIRED = EVENTS.c.occurred_at < bindparam("cutoff", type_=UTCDateTime())
# Only a forgotten tombstone can make a token unservable: the live tasks are read from
# `tasks`, so forgetting the other events changes no /changes answer.
_EXPIRED_TOMBSTONE = _EXPIRED & (EVENTS.c.kind == "deleted")
_MARK_PURGED = (
    update(USER_SYNC)
    .where(
        exists().where(EVENTS.c.scope_id == USER_SYNC.c.user_id, _EXPIRED_TOMBSTONE),
    )
    .values(
        purged_seq=select(EVENTS.c.seq)
        .where(EVENTS.c.scope_id == USER_SYNC.c.user_id, _EXPIRED_TOMBSTONE)
        .order_by(EVENTS.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
)
_PURGE = delete(EVENTS).where(_EXPIRED)


async def purge_events(connection: AsyncConnection, cutoff: datetime) -> None:
    """Forgets events older than `cutoff`, remembering per scope the last tombstone forgotten
    (so a token from before it answers 410). `connection` must be in a transaction."""
    await connection.execute(_MARK_PURGED, {"cutoff": cutoff})
    await connection.execute(_PURGE, {"cutoff": cutoff})
