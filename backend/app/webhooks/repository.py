"""Every query of webhook endpoints. Each takes the owner and filters by it in SQL
(`owned_by`), except `webhook_exists` (403 against 404). The worker's queries are in
app.webhooks.outbox and app.webhooks.queue."""

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import in_sync_scope, owned_by
from app.db.sequenced import USER_SYNC
from app.models import metadata

ENDPOINTS = metadata.tables["webhook_endpoints"]
DELIVERIES = metadata.tables["webhook_deliveries"]
ATTEMPTS = metadata.tables["webhook_attempts"]
E, D, A = ENDPOINTS.c, DELIVERIES.c, ATTEMPTS.c

Row = dict[str, Any]

_GET = select(ENDPOINTS).where(owned_by(ENDPOINTS), E.id == bindparam("webhook_id"))
_LIST = select(ENDPOINTS).where(owned_by(ENDPOINTS)).order_by(E.created_at, E.id)
_EXISTS = select(exists().where(E.id == bindparam("webhook_id")))
_COUNT = select(func.count()).select_from(ENDPOINTS).where(owned_by(ENDPOINTS))
_SEQ = select(USER_SYNC.c.seq).where(in_sync_scope(USER_SYNC.c.user_id))


async def get_webhook(connection: AsyncConnection, owner: str, webhook_id: uuid.UUID) -> Row | None:
    row = (await connection.execute(_GET, {"owner": owner, "webhook_id": webhook_id})).first()
    return None if row is None else dict(row._mapping)


async def list_webhooks(connection: AsyncConnection, owner: str) -> list[Row]:
    return [dict(row._mapping) for row in await connection.execute(_LIST, {"owner": owner})]


async def webhook_exists(connection: AsyncConnection, webhook_id: uuid.UUID) -> bool:
    return bool(await connection.scalar(_EXISTS, {"webhook_id": webhook_id}))


async def count_webhooks(connection: AsyncConnection, owner: str) -> int:
    return int(await connection.scalar(_COUNT, {"owner": owner}) or 0)


async def current_seq(connection: AsyncConnection, owner: str) -> int:
    """The owner's last change number: a new endpoint hears of changes after it only."""
    return int(await connection.scalar(_SEQ, {"owner": owner}) or 0)


async def insert_webhook(connection: AsyncConnection, values: Row) -> None:
    await connection.execute(insert(ENDPOINTS), values)


async def update_webhook(
    connection: AsyncConnection, owner: str, webhook_id: uuid.UUID, values: Row
) -> Row:
    statement = (
        update(ENDPOINTS)
        .where(owned_by(ENDPOINTS, owner), E.id == webhook_id)
        .values(**values)
        .returning(*ENDPOINTS.c)
    )
    return dict((await connection.execute(statement)).one()._mapping)


async def delete_webhook(connection: AsyncConnection, owner: str, webhook_id: uuid.UUID) -> None:
    # Attempts and deliveries go with it (ON DELETE CASCADE; SQLite: foreign_keys=ON).
    await connection.execute(
        delete(ENDPOINTS).where(owned_by(ENDPOINTS, owner), E.id == webhook_id)
    )


def _owned_delivery() -> Any:
    return (D.endpoint_id == bindparam("webhook_id")) & owned_by(DELIVERIES)


_DELIVERIES = (
    select(DELIVERIES)
    .where(_owned_delivery())
    .order_by(D.created_at.desc(), D.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_ATTEMPTS = select(ATTEMPTS).where(A.delivery_id.in_(bindparam("ids", expanding=True)))
_DELIVERY = select(DELIVERIES).where(_owned_delivery(), D.id == bindparam("delivery_id"))


async def list_deliveries(
    connection: AsyncConnection, owner: str, webhook_id: uuid.UUID, limit: int, offset: int
) -> list[Row]:
    """Newest first, each with its attempts (oldest first)."""
    parameters = {"owner": owner, "webhook_id": webhook_id, "limit": limit, "offset": offset}
    deliveries = [dict(row._mapping) for row in await connection.execute(_DELIVERIES, parameters)]
    attempts: dict[uuid.UUID, list[Row]] = {row["id"]: [] for row in deliveries}
    if attempts:
        rows = await connection.execute(_ATTEMPTS, {"ids": list(attempts)})
        for row in rows:
            attempts[row.delivery_id].append(dict(row._mapping))
    for delivery in deliveries:
        delivery["attempts"] = sorted(attempts[delivery["id"]], key=lambda a: a["number"])
    return deliveries


async def get_delivery(
    connection: AsyncConnection, owner: str, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> Row | None:
    parameters = {"owner": owner, "webhook_id": webhook_id, "delivery_id": delivery_id}
    row = (await connection.execute(_DELIVERY, parameters)).first()
    return None if row is None else dict(row._mapping)


async def insert_delivery(connection: AsyncConnection, values: Row) -> None:
    await connection.execute(insert(DELIVERIES), values)


async def schedule_delivery(
    connection: AsyncConnection, owner: str, delivery_id: uuid.UUID, at: Any
) -> None:
    """Due again at `at`, whatever happened to it (a retry by hand)."""
    await connection.execute(
        update(DELIVERIES)
        .where(owned_by(DELIVERIES, owner), D.id == delivery_id)
        .values(status="pending", next_attempt_at=at)
    )
