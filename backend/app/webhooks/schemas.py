"""Request and response bodies for /api/webhooks."""

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.kit.schemas import StrictInput
from app.models.webhook import WEBHOOK_DESCRIPTION_MAX_LENGTH, WEBHOOK_URL_MAX_LENGTH

_EventTypeValue = Literal[
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "list.created",
    "list.updated",
    "list.deleted",
    "reminder.fired",
    "webhook.disabled",
]
# Names for generated clients (`x-enum-varnames`): `task.created` is `TASK_CREATED`.
EventType = Annotated[
    _EventTypeValue,
    Field(
        json_schema_extra={
            "x-enum-varnames": [
                value.replace(".", "_").upper() for value in get_args(_EventTypeValue)
            ]
        }
    ),
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=WEBHOOK_URL_MAX_LENGTH),
    Field(description="`http` or `https`; its host must not resolve to a private address."),
]
Description = Annotated[str, StringConstraints(max_length=WEBHOOK_DESCRIPTION_MAX_LENGTH)]


def _no_repeats(types: list[EventType]) -> list[EventType]:
    if len(set(types)) != len(types):
        raise ValueError("must not name an event type twice")
    return types


EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, description="What to deliver; each type once."),
    AfterValidator(_no_repeats),
]


class WebhookCreate(StrictInput):
    url: Url
    event_types: EventTypes
    description: Description = ""


class WebhookUpdate(StrictInput):
    """Omitted fields are kept. `enabled: true` turns a disabled endpoint back on."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[EventType]
    enabled: bool
    disabled_reason: Literal["gone", "failing", "manual"] | None = Field(
        description="Why it is off: `gone` (it answered 410), `failing` (every attempt failed "
        "for `WEBHOOK_DISABLE_AFTER_SECONDS`), `manual` (`enabled: false`); null when on."
    )
    previous_secret_until: datetime | None = Field(
        description="Until when the secret before the last rotation still signs too."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="`whsec_` + base64 of 32 random bytes: shown now and never again."
    )


class AttemptRead(BaseModel):
    number: int
    at: datetime
    response_status: int | None = Field(description="The HTTP status; null: no response.")
    duration_ms: int
    error: str | None = Field(description="Why no response came (timeout, refused address...).")


class DeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Sent as `webhook-id`: the same on every attempt.")
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    next_attempt_at: datetime | None = Field(description="The next retry; null: none.")
    created_at: datetime
    attempts: list[AttemptRead]
