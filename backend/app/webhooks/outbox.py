"""Deliveries derived from the outbox (`events`). Each endpoint keeps a cursor: the owner's
events up to `cursor_seq` have their deliveries. One transaction reads the events after the
cursor, writes a delivery for each wanted one and moves the cursor: a worker killed at any
point leaves either all of it or none of it, so no event is lost or derived twice (the unique
(endpoint, event) pair backs that up).

A user's events commit in `seq` order (app.db.sequenced): once event N is visible, every
event before it is too, so a cursor never passes an event still to commit."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.db.scope import in_sync_scope
from app.db.sequenced import EVENTS, USER_SYNC
from app.webhooks.payloads import event_body
from app.webhooks.repository import DELIVERIES, ENDPOINTS, E
from app.webhooks.service import new_delivery

_BEHIND = (
    select(E.id, E.user_id, E.event_types, E.cursor_seq, USER_SYNC.c.seq)
    .join(USER_SYNC, USER_SYNC.c.user_id == E.user_id)
    .where(E.enabled, E.cursor_seq < USER_SYNC.c.seq)
    .order_by(E.cursor_seq)
    .limit(bindparam("endpoints"))
)
# Two workers never derive for the same endpoint at once (PostgreSQL; SQLite has one writer).
_TAKE_BEHIND = {
    "postgresql": _BEHIND.with_for_update(of=ENDPOINTS, skip_locked=True),
    "sqlite": _BEHIND,
}
_EVENTS = (
    select(EVENTS)
    .where(in_sync_scope(EVENTS.c.scope_id), EVENTS.c.seq > bindparam("after"))
    .order_by(EVENTS.c.seq)
    .limit(bindparam("events"))
)
_MOVE = update(ENDPOINTS).where(E.id == bindparam("endpoint")).values(cursor_seq=bindparam("seq"))


async def derive_deliveries(database: Database, *, endpoints: int = 200, events: int = 1000) -> int:
    """One pass: deliveries for up to `events` new events of up to `endpoints` endpoints.
    How many deliveries it made."""
    statement = _TAKE_BEHIND["sqlite" if database.is_sqlite else "postgresql"]
    async with database.transaction() as connection:
        behind = (await connection.execute(statement, {"endpoints": endpoints})).all()
        by_owner: dict[str, list[Any]] = defaultdict(list)
        for row in behind:
            by_owner[row.user_id].append(row)
        made = 0
        for owner, rows in by_owner.items():
            made += await _derive_for(connection, owner, rows, events, database.clock())
    return made


async def _derive_for(
    connection: AsyncConnection, owner: str, endpoints: list[Any], limit: int, now: datetime
) -> int:
    after = min(row.cursor_seq for row in endpoints)
    parameters = {"owner": owner, "after": after, "events": limit}
    found = [dict(row._mapping) for row in await connection.execute(_EVENTS, parameters)]
    bodies = {event["seq"]: event_body(event) for event in found}
    last = found[-1]["seq"] if found else 0
    if len(found) < limit:  # read to the end: nothing is left up to the counter either
        last = max(last, endpoints[0].seq)
    deliveries, moves = [], []
    for endpoint in endpoints:
        wanted = set(endpoint.event_types)
        for seq, typed in bodies.items():
            if seq > endpoint.cursor_seq and typed is not None and typed[0] in wanted:
                delivery = new_delivery(owner, endpoint.id, seq, typed[0], now)
                deliveries.append({**delivery, "body": typed[1]})
        moves.append({"endpoint": endpoint.id, "seq": max(last, endpoint.cursor_seq)})
    if deliveries:
        await connection.execute(insert(DELIVERIES), deliveries)
    await connection.execute(_MOVE, moves)
    return len(deliveries)
