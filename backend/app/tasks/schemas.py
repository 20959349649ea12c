"""Request and response bodies for /api/tasks."""

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.kit.keys import fold
from app.kit.schemas import (
    ResourceId,
    StrictInput,
    check_storable_text,
    has_visible_character,
)
from app.models.task import (
    DESCRIPTION_MAX_LENGTH,
    MAX_TAGS_PER_TASK,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from app.recurrence.schemas import RecurrenceInput, RecurrenceRead
from app.reminders.schemas import ReminderRead, Reminders

# Lengths count characters (code points), so 200 emoji fit, as PostgreSQL's VARCHAR(200) counts.
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH)
]

# Ranks, lowest first: the stored number is the index, so sorting by it sorts by importance.
PRIORITIES = ("none", "low", "medium", "high")
Priority = Literal["none", "low", "medium", "high"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_text(value: Any) -> Any:
    """Only "YYYY-MM-DD": not a timestamp number, not a date-time that happens to be midnight."""
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise ValueError('must be a date as "YYYY-MM-DD"')
    return value


def _date_time_text(value: Any) -> Any:
    if not isinstance(value, str) or _DATE.match(value) is None or "T" not in value.upper():
        raise ValueError('must be a date-time with an offset, as "2026-12-01T17:00:00+01:00"')
    return value


# asyncpg writes the first and the last representable instants as PostgreSQL's -infinity and
# infinity, and reads them back without an offset: refused rather than stored as something else
# than was sent.
_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant
        raise ValueError("is out of range") from None
    if utc == _FIRST_INSTANT:
        raise ValueError("is out of range: the earliest is 0001-01-01T00:00:00.000001Z")
    if utc == _LAST_INSTANT:
        raise ValueError("is out of range: the latest is 9999-12-31T23:59:59.999998Z")
    return utc


_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _uuid_text(value: Any) -> Any:
    """Only the canonical spelling names a task, as in its path (app.tasks.dependencies)."""
    if not isinstance(value, str) or _CANONICAL_UUID.fullmatch(value) is None:
        raise ValueError("must be a task id (a UUID, 8-4-4-4-12 hex digits)")
    return value


TaskRef = Annotated[uuid.UUID, BeforeValidator(_uuid_text), Field(strict=False)]

DueDate = Annotated[date, BeforeValidator(_date_text), Field(strict=False)]
DueAt = Annotated[
    AwareDatetime, BeforeValidator(_date_time_text), AfterValidator(_as_utc), Field(strict=False)
]


def check_tags(tags: list[str]) -> list[str]:
    """Each tag trimmed, 1 to 50 characters, visible and storable; at most 20, and no two equal
    ignoring case. One readable message per rule, naming the offending tag's position."""
    if len(tags) > MAX_TAGS_PER_TASK:
        raise ValueError(f"at most {MAX_TAGS_PER_TASK} tags, got {len(tags)}")
    trimmed, seen = [], set()
    for position, tag in enumerate(tags):
        tag = check_storable_text(tag).strip()
        if not 1 <= len(tag) <= TAG_MAX_LENGTH or not has_visible_character(tag):
            raise ValueError(
                f"tag {position} must have 1 to {TAG_MAX_LENGTH} characters after trimming, "
                "some of them visible"
            )
        if fold(tag) in seen:
            raise ValueError(f"tag {position} ({tag!r}) repeats another one (case is ignored)")
        seen.add(fold(tag))
        trimmed.append(tag)
    return trimmed


Tags = Annotated[list[str], AfterValidator(check_tags)]

_MAX_TAGS: dict[str, Any] = {"maxItems": MAX_TAGS_PER_TASK}
_DUE_DATE = "All-day due date, `YYYY-MM-DD`: never shifts with time zones. Setting it clears "
_DUE_AT = "Due date-time with an offset (RFC 3339); stored and returned in UTC. Setting it clears "
_LIST_ID = (
    "The list the task is in (one of the caller's lists), or null: in no list, which is what "
    "omitting it means."
)
_TAGS = (
    f"Up to {MAX_TAGS_PER_TASK} tags of 1 to {TAG_MAX_LENGTH} characters after trimming, no "
    "two equal ignoring case; kept as written, in order."
)


_RECURRENCE = (
    "Optional: repeat the task (needs a due). Completing it moves the due to the next "
    "occurrence instead of completing it, until COUNT or UNTIL runs out."
)
_REMINDERS = (
    'Optional: up to 10, each `{"before": "PT30M"}` (needs a timed due) or '
    '`{"at": "2026-12-01T08:00:00Z"}`; each fires once, as a `reminder.fired` event.'
)


class _VisibleTitle(StrictInput):
    @field_validator("title", check_fields=False)
    @classmethod
    def _title_is_visible(cls, title: str | None) -> str | None:
        # Only spaces and zero-width characters would show as an empty row in a UI.
        if title is not None and not has_visible_character(title):
            raise ValueError("must contain a visible character")
        return title

    @model_validator(mode="after")
    def _one_kind_of_due(self) -> Any:
        if getattr(self, "due_date", None) is not None and getattr(self, "due_at", None):
            raise ValueError("set due_date (all day) or due_at (a time), not both")
        return self


Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)]


def _default_in_words(schema: dict[str, Any]) -> None:
    # Generators (openapi-typescript's defaults) read `default` as "always present", which
    # would make an optional input field required in the generated types.
    schema.pop("default", None)


# "due_date or due_at, not both" where OpenAPI can say it: not both set to a value (one of
# them null is allowed), so generators stop building bodies the API refuses.
_ONE_KIND_OF_DUE: dict[str, Any] = {
    "not": {
        "required": ["due_date", "due_at"],
        "properties": {"due_date": {"type": "string"}, "due_at": {"type": "string"}},
    }
}


class TaskCreate(_VisibleTitle):
    model_config = ConfigDict(
        json_schema_extra={
            **_ONE_KIND_OF_DUE,
            "examples": [
                {
                    "title": "Buy milk",
                    "description": "2 litres",
                    "due_date": "2026-12-01",
                    "priority": "high",
                    "tags": ["home"],
                }
            ],
        }
    )

    title: Title = Field(description="Trimmed; 1 to 200 characters.")
    description: Description | None = Field(default=None, description="Up to 2000 characters.")
    is_completed: bool = Field(
        default=False,
        description="Optional; false when omitted.",
        json_schema_extra=_default_in_words,
    )
    due_date: DueDate | None = Field(default=None, description=_DUE_DATE + "`due_at`.")
    due_at: DueAt | None = Field(default=None, description=_DUE_AT + "`due_date`.")
    priority: Priority = Field(
        default="none",
        description="Optional; `none` when omitted.",
        json_schema_extra=_default_in_words,
    )
    tags: Tags = Field(default_factory=list, description=_TAGS, json_schema_extra=_MAX_TAGS)
    parent_id: TaskRef | None = Field(
        default=None,
        description="Optional: make it a subtask of this task of yours (at the end of its "
        "subtasks, in its list: omit `list_id` or give the parent's). Omitted or null: a "
        "top-level task.",
    )
    list_id: ResourceId | None = Field(default=None, description=_LIST_ID)
    recurrence: RecurrenceInput | None = Field(default=None, description=_RECURRENCE)
    reminders: Reminders | None = Field(default=None, description=_REMINDERS)


class TaskUpdate(_VisibleTitle):
    """Partial update: omitted fields stay as they are; `description: null` clears it, and
    `due_date: null` or `due_at: null` clears the due date, whichever kind it is."""

    title: Title | SkipJsonSchema[None] = Field(
        default=None, description="Trimmed; 1 to 200 characters. Cannot be null."
    )
    description: Description | None = Field(default=None, description="null clears it.")
    is_completed: bool | SkipJsonSchema[None] = Field(default=None, description="Cannot be null.")
    due_date: DueDate | None = Field(default=None, description=_DUE_DATE + "`due_at`; null clears.")
    due_at: DueAt | None = Field(default=None, description=_DUE_AT + "`due_date`; null clears.")
    priority: Priority | SkipJsonSchema[None] = Field(default=None, description="Cannot be null.")
    tags: list[str] | SkipJsonSchema[None] = Field(
        default=None,
        description=_TAGS + " Replaces the task's tags; `[]` removes them all.",
        json_schema_extra=_MAX_TAGS,
    )
    list_id: ResourceId | None = Field(
        default=None, description=_LIST_ID + " null takes it out of its list."
    )
    recurrence: RecurrenceInput | None = Field(
        default=None, description=_RECURRENCE + " null stops it."
    )
    reminders: Reminders | None = Field(
        default=None, description=_REMINDERS + " Replaces them; null or `[]` removes them."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            **_ONE_KIND_OF_DUE,
            "examples": [{"is_completed": True, "due_at": "2026-12-01T17:00:00+01:00"}],
        }
    )

    @field_validator("title", "is_completed", "priority", "tags")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the client sent, so an omitted field stays allowed.
        if value is None:
            raise ValueError("cannot be null (omit it to leave it unchanged)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else check_tags(tags)

    @model_validator(mode="after")
    def _at_least_one_field(self) -> "TaskUpdate":
        if not self.model_fields_set:
            # Derived from the fields themselves, so a new field is named here without an edit.
            raise ValueError(f"provide at least one of: {', '.join(type(self).model_fields)}")
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
    completed_at: datetime | None = Field(
        description="UTC; set by the server when the task becomes completed, null while open "
        "(and for tasks completed before this field existed)."
    )
    due_date: date | None = Field(description="All-day due date; null if none or timed.")
    due_at: datetime | None = Field(description="Timed due, UTC; null if none or all-day.")
    priority: Priority
    tags: list[str] = Field(description="As written, in the order given.")
    parent_id: uuid.UUID | None = Field(description="The task it is a subtask of; null: top level.")
    position: str = Field(
        description="Its place among its siblings (same parent): sort by it as bytes (code "
        "points), ties by id. Opaque; change it with `POST /api/tasks/{id}/move`."
    )
    subtask_count: int = Field(description="How many direct subtasks it has.")
    open_subtask_count: int = Field(description="How many of those are open.")
    list_id: uuid.UUID | None = Field(description="The task's list; null: in no list.")
    recurrence: RecurrenceRead | None = Field(description="How it repeats; null: it does not.")
    reminders: list[ReminderRead] | None = Field(description="Its reminders; null: none.")
    etag: str = Field(
        description='The task\'s version as a strong entity tag (`"12"`), as in the `ETag` '
        "header: changes only when a value really changes. Send it in `If-Match` to write only "
        "if nobody changed the task since."
    )


Place = Literal["first", "last"]


class TaskMove(StrictInput):
    """Where a task goes: under `parent_id` (omitted: its current parent; null: top level),
    into `list_id` (a subtask: its parent's list; a top-level task: omitted keeps its list),
    after or before a sibling there (same list, same parent), or first or last there (the
    default: last). Its subtasks move with it, into its list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"parent_id": None, "after": "6c4d8f57-2d1a-4c55-9f0e-5b1f1b8e6a10"}]
        }
    )

    parent_id: TaskRef | None = Field(
        default=None, description="The new parent; null: top level; omitted: the same parent."
    )
    after: TaskRef | None = Field(
        default=None,
        description="Right after this task: a sibling in the target (same list and parent).",
    )
    before: TaskRef | None = Field(
        default=None,
        description="Right before this task: a sibling in the target (same list and parent).",
    )
    place: Place | None = Field(default=None, description="`first` or `last` (the default).")
    list_id: ResourceId | None = Field(
        default=None,
        description="The target list; null: no list; omitted: the parent's list under a parent, "
        "else the task's current list. Under a parent, any other list is a 400 "
        "`SUBTASK_LIST_MISMATCH`.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> "TaskMove":
        given = [name for name in ("after", "before", "place") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of after, before, place (got {', '.join(given)})")
        return self

    @property
    def keeps_parent(self) -> bool:
        return "parent_id" not in self.model_fields_set
