"""Tables behind sync: each user's change counter, tombstones of deleted tasks, and the stored
responses of idempotent requests. All are keyed by the token's user id, like `tasks`."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, SmallInteger, String
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


class TaskTombstone(SQLModel, table=True):
    """A deleted task, so delta sync can tell clients it is gone."""

    __tablename__ = "task_tombstones"
    __table_args__ = (Index("ix_task_tombstones_deleted_at", "deleted_at"),)

    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), primary_key=True)
    seq: int = Field(sa_type=BigInteger, primary_key=True)
    task_id: uuid.UUID = Field(nullable=False)
    deleted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


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
