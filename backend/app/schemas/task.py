"""Request and response bodies for /api/tasks."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.models.task import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from app.schemas.base import StrictInput, has_visible_character

# Lengths count characters (code points), so 200 emoji fit, as PostgreSQL's VARCHAR(200) counts.
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH)
]


class _VisibleTitle(StrictInput):
    @field_validator("title", check_fields=False)
    @classmethod
    def _title_is_visible(cls, title: str | None) -> str | None:
        # Only spaces and zero-width characters would show as an empty row in a UI.
        if title is not None and not has_visible_character(title):
            raise ValueError("must contain a visible character")
        return title


Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)]


class TaskCreate(_VisibleTitle):
    title: Title = Field(description="Trimmed; 1 to 200 characters.")
    description: Description | None = Field(default=None, description="Up to 2000 characters.")
    is_completed: bool = False


class TaskUpdate(_VisibleTitle):
    """Partial update: omitted fields stay as they are; `description: null` clears it."""

    title: Title | SkipJsonSchema[None] = Field(
        default=None, description="Trimmed; 1 to 200 characters. Cannot be null."
    )
    description: Description | None = Field(default=None, description="null clears it.")
    is_completed: bool | SkipJsonSchema[None] = Field(default=None, description="Cannot be null.")

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @field_validator("title", "is_completed")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the client sent, so an omitted field stays allowed.
        if value is None:
            raise ValueError("cannot be null (omit it to leave it unchanged)")
        return value

    @model_validator(mode="after")
    def _at_least_one_field(self) -> "TaskUpdate":
        if not self.model_fields_set:
            raise ValueError("provide at least one of: title, description, is_completed")
        return self

    def changes(self) -> dict[str, Any]:
        """Only the fields the client actually sent."""
        return self.model_dump(include=self.model_fields_set)


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    is_completed: bool
    created_at: datetime = Field(description="UTC, ISO 8601 with offset.")
    updated_at: datetime = Field(description="UTC; changes only when a value really changes.")
    etag: str = Field(
        description='The task\'s version as a strong entity tag (`"12"`), as in the `ETag` '
        "header: changes only when a value really changes. Send it in `If-Match` to write only "
        "if nobody changed the task since."
    )
