"""Stored responses of requests made with `Idempotency-Key`, always per user."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import caller, owned_by
from app.models import metadata
from app.models.base import UTCDateTime

KEYS = metadata.tables["idempotency_keys"]
_THIS_KEY = owned_by(KEYS) & (KEYS.c.key == bindparam("the_key"))


def _claim(dialect_insert: Any) -> Any:
    """Insert the key, or take over an expired one; RETURNING says whether we hold it. A
    concurrent claim of a live key waits here for the holder's commit, then returns nothing."""
    statement = dialect_insert(KEYS).values(
        user_id=caller(),
        key=bindparam("the_key"),
        fingerprint=bindparam("the_fingerprint"),
        route=bindparam("the_route"),
        created_at=bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=[KEYS.c.user_id, KEYS.c.key],
        set_={
            "fingerprint": statement.excluded.fingerprint,
            "route": statement.excluded.route,
            "created_at": statement.excluded.created_at,
            "status_code": None,
            "headers": None,
            "body": None,
        },
        where=KEYS.c.created_at < bindparam("expired_before", type_=UTCDateTime()),
    ).returning(KEYS.c.key)


_CLAIM = {"postgresql": _claim(postgresql.insert), "sqlite": _claim(sqlite.insert)}
_STORED = select(
    KEYS.c.fingerprint, KEYS.c.route, KEYS.c.status_code, KEYS.c.headers, KEYS.c.body
).where(_THIS_KEY)
_STORE = (
    update(KEYS)
    .where(_THIS_KEY)
    .values(
        status_code=bindparam("the_status"),
        headers=bindparam("the_headers"),
        body=bindparam("the_body"),
    )
)
_PURGE = delete(KEYS).where(KEYS.c.created_at < bindparam("expired_before", type_=UTCDateTime()))


async def claim(
    connection: AsyncConnection,
    owner: str,
    key: str,
    fingerprint: bytes,
    route: str,
    now: datetime,
    expired_before: datetime,
) -> bool:
    parameters = {
        "owner": owner,
        "the_key": key,
        "the_fingerprint": fingerprint,
        "the_route": route,
        "now": now,
        "expired_before": expired_before,
    }
    result = await connection.execute(_CLAIM[connection.dialect.name], parameters)
    return result.first() is not None


@dataclass(frozen=True, slots=True)
class StoredKey:
    fingerprint: bytes
    route: str
    status_code: int
    headers: bytes
    body: bytes


async def stored(connection: AsyncConnection, owner: str, key: str) -> StoredKey:
    """The claimed key's row. It exists and has its response: `claim` returned False, so a
    live row was there, and its request stored the response in the transaction that made it."""
    row = (await connection.execute(_STORED, {"owner": owner, "the_key": key})).one()
    return StoredKey(row.fingerprint, row.route, row.status_code, row.headers, row.body)


async def store(
    connection: AsyncConnection, owner: str, key: str, status: int, headers: bytes, body: bytes
) -> None:
    parameters = {
        "owner": owner,
        "the_key": key,
        "the_status": status,
        "the_headers": headers,
        "the_body": body,
    }
    await connection.execute(_STORE, parameters)


async def purge(connection: AsyncConnection, expired_before: datetime) -> None:
    await connection.execute(_PURGE, {"expired_before": expired_before})
