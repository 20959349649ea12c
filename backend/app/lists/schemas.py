"""Request and response bodies for /api/lists."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.kit.schemas import ResourceId, StrictInput, has_visible_character
from app.models.task_list import LIST_NAME_MAX_LENGTH

# Trimmed, 1 to 255 characters with a visible one: the rules of task titles.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LIST_NAME_MAX_LENGTH)
]
# "#rrggbb", stored in lower case: one spelling per colour, what <input type="color"> gives.
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", to_lower=True)]
_NAME = "Trimmed; 1 to 255 characters, some of them visible."
_COLOR = '`"#rrggbb"` (hex, stored in lower case), or null for none.'


def _default_in_words(schema: dict[str, Any]) -> None:
    # Generators read `default` as "always present" (see app.tasks.schemas).
    schema.pop("default", None)


class _VisibleName(StrictInput):
    @field_validator("name", check_fields=False)
    @classmethod
    def _name_is_visible(cls, name: str | None) -> str | None:
        if name is not None and not has_visible_character(name):
            raise ValueError("must contain a visible character")
        return name


class ListCreate(_VisibleName):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Groceries", "color": "#22aa66"}]}
    )

    name: Name = Field(description=_NAME)
    color: Color | None = Field(default=None, description=_COLOR)
    archived: bool = Field(
        default=False,
        description="Optional; false when omitted.",
        json_schema_extra=_default_in_words,
    )


class ListUpdate(_VisibleName):
    """Partial: omitted fields stay as they are. The order changes through `.../move`."""

    model_config = ConfigDict(
        json_schema_extra={"minProperties": 1, "examples": [{"archived": True}]}
    )

    name: Name | SkipJsonSchema[None] = Field(default=None, description=_NAME + " Not null.")
    color: Color | None = Field(default=None, description=_COLOR)
    archived: bool | SkipJsonSchema[None] = Field(default=None, description="Cannot be null.")

    @field_validator("name", "archived")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null (omit it to leave it unchanged)")
        return value

    @model_validator(mode="after")
    def _at_least_one_field(self) -> "ListUpdate":
        if not self.model_fields_set:
            raise ValueError(f"provide at least one of: {', '.join(type(self).model_fields)}")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class ListMove(StrictInput):
    """Where the list goes among the caller's lists, as tasks move among their siblings: after
    or before another list, or first or last (the default: last)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"after": "00000000-0000-4000-8000-000000000000"}, {"place": "first"}]
        }
    )

    after: ResourceId | SkipJsonSchema[None] = Field(
        default=None, description="Right after this list of the caller's."
    )
    before: ResourceId | SkipJsonSchema[None] = Field(
        default=None, description="Right before this list of the caller's."
    )
    place: Literal["first", "last"] | SkipJsonSchema[None] = Field(
        default=None, description="`first` or `last` (the default)."
    )

    @model_validator(mode="after")
    def _one_place(self) -> "ListMove":
        given = [name for name in ("after", "before", "place") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of after, before, place (got {', '.join(given)})")
        return self


class ListRead(BaseModel):
    id: uuid.UUID
    name: str
    color: str | None = Field(description='`"#rrggbb"`, or null.')
    position: str = Field(
        description="The list's place among the caller's lists: lists sort by it (byte order, "
        "then id). Opaque: move a list with `POST /api/lists/{id}/move`."
    )
    archived: bool
    created_at: datetime = Field(description="UTC, ISO 8601 with offset.")
    updated_at: datetime = Field(description="UTC; changes only when a value really changes.")
    task_count: int = Field(description="How many tasks are in the list.")
    open_task_count: int = Field(description="How many of them are not completed.")
    etag: str = Field(
        description='The list\'s version as a strong entity tag (`"12"`), as in the `ETag` '
        "header: changes when the list's own fields or place change (not its counts)."
    )
