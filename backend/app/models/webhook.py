"""Webhook endpoints (a user's URLs, each with its signing secret and its cursor over the
user's outbox), their deliveries (one per event and endpoint) and each delivery's attempts."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime
from app.models.task import USER_ID_MAX_LENGTH

WEBHOOK_URL_MAX_LENGTH = 2048
WEBHOOK_DESCRIPTION_MAX_LENGTH = 500


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_user_id", "user_id"),)

    id: uuid.UUID = Field(primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    url: str = Field(sa_type=String(WEBHOOK_URL_MAX_LENGTH), nullable=False)
    description: str = Field(sa_type=String(WEBHOOK_DESCRIPTION_MAX_LENGTH), nullable=False)
    event_types: Any = Field(sa_type=JSON, nullable=False)  # ["task.created", ...]
    # Kept in clear: signing needs it (as every Standard Webhooks sender does).
    secret: str = Field(sa_type=String(128), nullable=False)
    # The secret before the last rotation, still signed with until `previous_secret_until`.
    previous_secret: str | None = Field(default=None, sa_type=String(128), nullable=True)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    enabled: bool = Field(nullable=False)
    disabled_reason: str | None = Field(default=None, sa_type=String(32), nullable=True)
    # Since when every attempt failed (NULL: the last one succeeded): disabled past a limit.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # The owner's events up to this seq have their deliveries (or were not wanted).
    cursor_seq: int = Field(sa_type=BigInteger, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class WebhookDelivery(SQLModel, table=True):
    """One message to one endpoint: its id is the `webhook-id` header, the same on every
    attempt; its body is fixed when it is made, so every attempt sends the same bytes."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_seq"),
        Index("ix_webhook_deliveries_next_attempt_at", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    endpoint_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    # The outbox event it carries (NULL for a ping).
    event_seq: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    event_type: str = Field(sa_type=String(32), nullable=False)
    body: str = Field(sa_type=Text, nullable=False)
    status: str = Field(sa_type=String(16), nullable=False)  # pending succeeded failed
    attempts: int = Field(sa_type=Integer, nullable=False)
    # When it is next due (NULL once it succeeded or failed for good); while an attempt runs,
    # the end of its lease: a worker killed mid-attempt leaves it due again then.
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"

    delivery_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True)
    )
    number: int = Field(sa_type=Integer, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    response_status: int | None = Field(default=None, sa_type=SmallInteger, nullable=True)
    duration_ms: int = Field(sa_type=Integer, nullable=False)
    error: str | None = Field(default=None, sa_type=String(200), nullable=True)
