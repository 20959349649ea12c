"""The `reminders` field of a task: up to 10, each relative to a timed due or at an instant."""

from datetime import UTC, timedelta
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from app.kit.schemas import StrictInput

MAX_REMINDERS = 10
MAX_BEFORE = timedelta(days=366)
_DURATION = TypeAdapter(timedelta)


def before_of(text: str) -> timedelta:
    """An ISO 8601 duration (`PT30M`, `P1DT2H`), 0 to 366 days."""
    if not text.upper().startswith("P"):
        raise ValueError("must be an ISO 8601 duration, as PT30M")
    try:
        duration = _DURATION.validate_python(text)
    except ValidationError:
        raise ValueError("must be an ISO 8601 duration, as PT30M") from None
    if not timedelta(0) <= duration <= MAX_BEFORE:
        raise ValueError("must be from PT0S to P366D")
    return duration


class ReminderInput(StrictInput):
    """`before` (relative to a timed due) or `at` (an instant), exactly one."""

    model_config = {"json_schema_extra": {"examples": [{"before": "PT30M"}]}}

    before: str | None = Field(
        default=None, max_length=32, description="ISO 8601 duration before the due: `PT30M`."
    )
    at: Annotated[AwareDatetime, Field(strict=False)] | None = Field(
        default=None, description="An instant, with an offset."
    )

    @field_validator("before")
    @classmethod
    def _duration(cls, before: str | None) -> str | None:
        if before is not None:
            before_of(before)
        return before

    @model_validator(mode="after")
    def _exactly_one(self) -> Any:
        if (self.before is None) == (self.at is None):
            raise ValueError("give `before` or `at`, exactly one")
        return self

    def stored(self) -> dict[str, str]:
        if self.before is not None:
            return {"before": self.before.upper()}
        assert self.at is not None
        return {"at": self.at.astimezone(UTC).isoformat()}


Reminders = Annotated[list[ReminderInput], Field(max_length=MAX_REMINDERS)]


class ReminderRead(BaseModel):
    before: str | None = None
    at: str | None = None
