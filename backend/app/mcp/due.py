"""Due bounds of the MCP read tools, in the user's time zone: a day means that day where the
user is, for timed tasks, and that date for all-day ones."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.tasks.query import DueBound, TaskFilter

MICROSECOND = timedelta(microseconds=1)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def before(value: date | datetime | None, zone: ZoneInfo) -> DueBound | None:
    """Before a day: before its first instant in the user's zone (all-day tasks: an earlier
    date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return DueBound.before(value)
    return DueBound(midnight(value, zone).astimezone(UTC), value)


def after(value: date | datetime | None, zone: ZoneInfo) -> DueBound | None:
    """After a day: after its last instant in the user's zone (all-day tasks: a later date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return DueBound.after(value)
    end = midnight(value + timedelta(days=1), zone) - MICROSECOND
    return DueBound(end.astimezone(UTC), value)


def overdue(task_filter: TaskFilter, now: datetime, zone: ZoneInfo) -> TaskFilter:
    """Due before now: timed tasks before this instant, all-day ones before today in `zone`
    (the stricter bound when due_before was given too)."""
    bound = DueBound(now.astimezone(UTC), now.astimezone(zone).date())
    given = task_filter.due_before
    if given is not None:
        bound = DueBound(min(given.instant, bound.instant), min(given.day, bound.day))
    return TaskFilter(**{**_fields(task_filter), "due_before": bound})


def _fields(task_filter: TaskFilter) -> dict[str, Any]:
    return {name: getattr(task_filter, name) for name in TaskFilter.__dataclass_fields__}
