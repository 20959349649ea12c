"""Webhook rules: ownership (403 against 404), the per-user limits, URLs checked against
request forgery, secrets shown once and rotated with an overlap, pings and retries by hand."""

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.config import Settings
from app.db.database import Database
from app.errors import (
    ApiError,
    DeliveryNotFound,
    ValidationFailed,
    WebhookForbidden,
    WebhookNotFound,
    WebhookQuotaExceeded,
)
from app.webhooks import repository
from app.webhooks.payloads import body_of
from app.webhooks.schemas import WebhookCreate, WebhookUpdate
from app.webhooks.ssrf import Resolver, check_url

Row = dict[str, Any]
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_types(types: Sequence[str] | None, settings: Settings) -> None:
    if types is not None and len(types) > settings.max_webhook_event_types:
        limit = settings.max_webhook_event_types
        raise ValidationFailed(f"body.event_types: at most {limit} event types")


async def list_webhooks(database: Database, owner: str) -> list[Row]:
    async with database.connect() as connection:
        return await repository.list_webhooks(connection, owner)


async def get_webhook(database: Database, owner: str, webhook_id: uuid.UUID) -> Row:
    async with database.connect() as connection:
        return await _owned(connection, owner, webhook_id)


async def create_webhook(
    database: Database, owner: str, data: WebhookCreate, settings: Settings, resolver: Resolver
) -> Row:
    """The new endpoint with its secret (the only time the secret is shown). It hears of the
    owner's changes from now on."""
    _check_types(data.event_types, settings)
    await check_url(resolver, data.url, settings.webhook_allow_private_targets)
    async with database.transaction() as connection:
        if await repository.count_webhooks(connection, owner) >= settings.max_webhooks_per_user:
            raise WebhookQuotaExceeded()
        now = database.clock()
        values: Row = {
            "id": uuid.uuid4(),
            "user_id": owner,
            "url": data.url,
            "description": data.description,
            "event_types": list(data.event_types),
            "secret": new_secret(),
            "previous_secret": None,
            "previous_secret_until": None,
            "enabled": True,
            "disabled_reason": None,
            "failing_since": None,
            "cursor_seq": await repository.current_seq(connection, owner),
            "created_at": now,
            "updated_at": now,
        }
        await repository.insert_webhook(connection, values)
    return values


async def update_webhook(
    database: Database,
    owner: str,
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    settings: Settings,
    resolver: Resolver,
) -> Row:
    _check_types(data.event_types, settings)
    if data.url is not None:
        await check_url(resolver, data.url, settings.webhook_allow_private_targets)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    async with database.transaction() as connection:
        current = await _owned(connection, owner, webhook_id)
        if "enabled" in changes:
            changes["disabled_reason"] = None if changes["enabled"] else "manual"
            if changes["enabled"] and not current["enabled"]:
                changes["failing_since"] = None  # a fresh start
        if not changes:
            return current
        changes["updated_at"] = max(current["updated_at"], database.clock())
        return await repository.update_webhook(connection, owner, webhook_id, changes)


async def delete_webhook(database: Database, owner: str, webhook_id: uuid.UUID) -> None:
    async with database.transaction() as connection:
        await _owned(connection, owner, webhook_id)
        await repository.delete_webhook(connection, owner, webhook_id)


async def rotate_secret(
    database: Database, owner: str, webhook_id: uuid.UUID, settings: Settings
) -> Row:
    """A new secret; the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_SECONDS."""
    async with database.transaction() as connection:
        current = await _owned(connection, owner, webhook_id)
        now = database.clock()
        changes = {
            "secret": new_secret(),
            "previous_secret": current["secret"],
            "previous_secret_until": now
            + timedelta(seconds=settings.webhook_secret_overlap_seconds),
            "updated_at": max(current["updated_at"], now),
        }
        return await repository.update_webhook(connection, owner, webhook_id, changes)


async def ping(database: Database, owner: str, webhook_id: uuid.UUID) -> Row:
    """A `webhook.ping` delivery, due now (sent even to a disabled endpoint: a way to test it)."""
    async with database.transaction() as connection:
        await _owned(connection, owner, webhook_id)
        now = database.clock()
        delivery = new_delivery(owner, webhook_id, None, "webhook.ping", now)
        delivery["body"] = body_of("webhook.ping", now, {"webhook_id": str(webhook_id)})
        await repository.insert_delivery(connection, delivery)
    database.wrote()  # an idle worker sends it at its next poll
    return {**delivery, "attempts": []}


def new_delivery(
    owner: str, webhook_id: uuid.UUID, seq: int | None, event_type: str, now: datetime
) -> Row:
    return {
        "id": uuid.uuid4(),
        "endpoint_id": webhook_id,
        "user_id": owner,
        "event_seq": seq,
        "event_type": event_type,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def list_deliveries(
    database: Database, owner: str, webhook_id: uuid.UUID, limit: int, offset: int
) -> list[Row]:
    async with database.connect() as connection:
        await _owned(connection, owner, webhook_id)
        return await repository.list_deliveries(connection, owner, webhook_id, limit, offset)


async def retry_delivery(
    database: Database, owner: str, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> Row:
    """Due again now, whatever its state (a succeeded one is sent again, same `webhook-id`)."""
    async with database.transaction() as connection:
        await _owned(connection, owner, webhook_id)
        delivery = await repository.get_delivery(connection, owner, webhook_id, delivery_id)
        if delivery is None:
            raise DeliveryNotFound()
        now = database.clock()
        await repository.schedule_delivery(connection, owner, delivery_id, now)
    database.wrote()  # an idle worker sends it at its next poll
    return {**delivery, "status": "pending", "next_attempt_at": now, "attempts": []}


async def _owned(connection: AsyncConnection, owner: str, webhook_id: uuid.UUID) -> Row:
    found = await repository.get_webhook(connection, owner, webhook_id)
    if found is None:
        raise await _why_not_owned(connection, webhook_id)
    return found


async def _why_not_owned(connection: AsyncConnection, webhook_id: uuid.UUID) -> ApiError:
    exists = await repository.webhook_exists(connection, webhook_id)
    return WebhookForbidden() if exists else WebhookNotFound()
