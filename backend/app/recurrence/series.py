"""A recurring task's series: checking a recurrence against the task's due, and where the due
goes next. Pure functions of the stored values and "now" (app.recurrence.rules expands)."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule

from app.recurrence.rules import (
    Recurrence,
    RuleError,
    build,
    check_matches,
    check_zone,
    local_anchor,
    occurrences,
    parts_of,
    to_utc,
)

MAX_OCCURRENCES = 100  # one `occurrences` answer
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Due:
    date: date | None
    at: datetime | None  # UTC

    @property
    def all_day(self) -> bool:
        return self.date is not None


@dataclass(frozen=True, slots=True)
class Step:
    """Where a series goes: the next due, or None when COUNT/UNTIL ran out."""

    due: Due | None
    recurrence: Recurrence


def checked(rule: str, time_zone: str, repeat_from: str, due: Due) -> Recurrence:
    """The recurrence to store for this due, or RuleError naming what is wrong."""
    if due.date is None and due.at is None:
        raise RuleError("recurrence: needs a due (due_date or due_at)")
    zone = check_zone(time_zone)
    parts = parts_of(rule)
    anchor = local_anchor(due.date, due.at, zone)
    built = build(parts, anchor, due.all_day, zone)
    check_matches(built, anchor)
    count = parts.get("COUNT")
    normalised = ";".join(f"{name}={value}" for name, value in parts.items())
    return Recurrence(normalised, time_zone, repeat_from, None if count is None else int(count) - 1)


def _series(recurrence: Recurrence, anchor_due: Due) -> tuple[rrule, datetime, ZoneInfo]:
    zone = ZoneInfo(recurrence.time_zone)
    anchor = local_anchor(anchor_due.date, anchor_due.at, zone)
    return build(parts_of(recurrence.rule), anchor, anchor_due.all_day, zone), anchor, zone


def next_step(recurrence: Recurrence, due: Due, now: datetime) -> Step:
    """After the current occurrence (completed or skipped). From the due: the first occurrence
    strictly after both the current due and now (missed ones are skipped, not queued); for an
    all-day series, today (in the series' zone) still counts. From completion: the series is
    anchored at the completion (its day, the due's time of day) and the next is the first after
    that anchor."""
    if recurrence.remaining == 0:
        return Step(None, recurrence)
    left = None if recurrence.remaining is None else recurrence.remaining - 1
    moved = replace(recurrence, remaining=left)
    zone = ZoneInfo(recurrence.time_zone)
    if recurrence.repeat_from == "completion":
        due = _anchored_at_completion(due, now, zone)
    rule, anchor, zone = _series(recurrence, due)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if due.all_day:
        floor = max(anchor, datetime.combine(local_now.date() - _DAY, anchor.time()))
        if recurrence.repeat_from == "completion":
            floor = anchor
        for occurrence in occurrences(rule, floor):
            return Step(Due(occurrence.date(), None), moved)
        return Step(None, recurrence)
    # Walking from a day before now, not from a due long past: missed ones cost no steps.
    after = anchor if recurrence.repeat_from == "completion" else max(anchor, local_now - _DAY)
    for occurrence in occurrences(rule, after):
        instant = to_utc(occurrence, zone)
        if recurrence.repeat_from == "completion" or instant > now:
            return Step(Due(None, instant), moved)
    return Step(None, recurrence)


def _anchored_at_completion(due: Due, now: datetime, zone: ZoneInfo) -> Due:
    today = now.astimezone(zone).date()
    if due.all_day:
        return Due(today, None)
    assert due.at is not None
    wall = due.at.astimezone(zone).replace(tzinfo=None)
    return Due(None, to_utc(datetime.combine(today, wall.time()), zone))


def upcoming(
    recurrence: Recurrence, due: Due, start: datetime, end: datetime, limit: int
) -> list[Due]:
    """The current due and the occurrences after it within [start, end), at most `limit`
    (and never past COUNT)."""
    rule, anchor, zone = _series(recurrence, due)
    left = MAX_OCCURRENCES if recurrence.remaining is None else recurrence.remaining + 1
    found: list[Due] = []
    candidates = [anchor, *occurrences(rule, anchor)]
    for occurrence in candidates[:left]:
        instant = to_utc(occurrence, zone)
        if instant >= end or len(found) >= limit:
            break
        if instant >= start:
            found.append(Due(occurrence.date(), None) if due.all_day else Due(None, instant))
    return found
