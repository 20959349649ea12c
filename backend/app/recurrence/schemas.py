"""Request and response bodies of recurring tasks: the `recurrence` field of a task, its
completions and its upcoming occurrences."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.kit.schemas import StrictInput
from app.recurrence.rules import MAX_RULE_LENGTH, RuleError, check_zone, parts_of

RepeatFrom = Literal["due", "completion"]


class RecurrenceInput(StrictInput):
    """An RFC 5545 RRULE, the IANA zone it is expanded in, and what the next occurrence
    counts from. The task needs a due (all-day or timed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"rule": "FREQ=MONTHLY;BYDAY=-1FR", "time_zone": "Europe/Berlin"},
                {"rule": "FREQ=DAILY;INTERVAL=3", "time_zone": "UTC", "repeat_from": "completion"},
            ]
        }
    )

    rule: str = Field(
        max_length=MAX_RULE_LENGTH,
        description="RRULE parts (`FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH`): FREQ YEARLY to HOURLY, "
        "INTERVAL, COUNT or UNTIL (UTC `...Z` for a timed due, a date for an all-day one), BYDAY, "
        "BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS, BYHOUR, BYMINUTE, WKST.",
    )
    time_zone: str = Field(max_length=64, description="IANA zone, e.g. `Europe/Berlin`.")
    repeat_from: RepeatFrom = Field(
        default="due", description="`due` (the default) or `completion`."
    )

    @field_validator("rule")
    @classmethod
    def _rule_parts(cls, rule: str) -> str:
        parts_of(rule)  # RuleError is a ValueError: a 400 naming the part
        return rule

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            check_zone(name)
        except RuleError as error:
            raise ValueError(str(error)) from None
        return name


class RecurrenceRead(BaseModel):
    rule: str = Field(description="The rule, upper case; COUNT as written.")
    time_zone: str
    repeat_from: RepeatFrom
    remaining: int | None = Field(
        description="Occurrences left after the current due (from COUNT); null: no COUNT."
    )


class CompletionRead(BaseModel):
    id: uuid.UUID
    task_id: uuid.UUID
    due_date: date | None = Field(description="The completed occurrence's all-day due.")
    due_at: datetime | None = Field(description="The completed occurrence's timed due (UTC).")
    completed_at: datetime


class OccurrenceRead(BaseModel):
    due_date: date | None
    due_at: datetime | None
