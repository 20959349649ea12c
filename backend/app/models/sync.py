"""Tables behind sync: each user's change counter, the events of every change, and the stored
responses of idempotent requests. All are keyed by the token's user id, like `tasks`."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, SmallInteger, String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime
from app.models.task import USER_ID_MAX_LENGTH

IDEMPOTENCY_KEY_MAX_LENGTH = 255
ROUTE_MAX_LENGTH = 255


class UserSync(SQLModel, table=True):
    """One row per user. Every write of the user's tasks bumps `seq` in its own transaction:
    the row lock serialises the user's writes, so they commit in `seq` order."""

    __tablename__ = "user_sync"

    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), primary_key=True)
    seq: int = Field(sa_type=BigInteger, nullable=False)
    # Tombstones up to this seq were purged: a sync token below it cannot be served any more.
    purged_seq: int = Field(default=0, sa_type=BigInteger, nullable=False)
    # How many tasks the user has: kept by triggers on `tasks`, read by the quota check.
    # Server-side default only: the writes' counter upserts are CTEs, where SQLAlchemy renders
    # no Python-side default.
    task_count: int = Field(
        sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )


class Event(SQLModel, table=True):
    """The outbox: one row per change of an entity, written by the change's own statement, so
    there is no change without its event and no event without its change. Numbered by the
    scope's change counter (`seq`), like the entity's version. What delta sync reads for
    deletions, and what webhooks and reminders will read."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_occurred_at", "occurred_at"),)

    # The sync scope (app.db.scope): the user today, a list later.
    scope_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), primary_key=True)
    seq: int = Field(sa_type=BigInteger, primary_key=True)
    entity_type: str = Field(sa_type=String(32), nullable=False)  # "task"
    entity_id: uuid.UUID = Field(nullable=False)
    kind: str = Field(sa_type=String(16), nullable=False)  # created updated completed deleted
    actor: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)  # who wrote it
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The entity's stored columns after the change, as the database renders JSON; NULL for
    # `deleted` (the tombstone).
    state: Any = Field(default=None, sa_type=JSON, nullable=True)


class IdempotencyKey(SQLModel, table=True):
    """A request made with `Idempotency-Key`, and the response it got (NULL until stored,
    which happens in the same transaction as the write): status, headers and body, exactly as
    the route produced them."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), primary_key=True)
    key: str = Field(sa_type=String(IDEMPOTENCY_KEY_MAX_LENGTH), primary_key=True)
    fingerprint: bytes = Field(sa_type=LargeBinary, nullable=False)
    # "POST /api/tasks": a key reused on another route is refused, never answered with the
    # response of the first route.
    route: str = Field(sa_type=String(ROUTE_MAX_LENGTH), nullable=False)
    status_code: int | None = Field(default=None, sa_type=SmallInteger, nullable=True)
    # JSON: [[name, value], ...], every header of the response, in order.
    headers: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    body: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
