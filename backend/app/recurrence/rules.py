"""RFC 5545 rules, expanded in the task's local wall time with python-dateutil's `rrule` and
converted to UTC with `zoneinfo` (never pytz).

The task's due is the series' anchor (DTSTART): every move of the due (a completion, a skip, an
edit) re-anchors it, and `COUNT` is kept as the number of occurrences left (`remaining`) rather
than recounted from the first one. Local times that do not exist (spring forward) are read with
the offset before the gap, so 02:30 becomes 03:30; times that occur twice (autumn) are the first
of the two (RFC 5545, 3.3.5). All-day rules expand dates and stay dates.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

_SUPPORTED = {
    "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYYEARDAY",
    "BYWEEKNO", "BYSETPOS", "BYHOUR", "BYMINUTE", "WKST",
}  # fmt: skip
_FREQUENCIES = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"}
_TIME_PARTS = {"BYHOUR", "BYMINUTE"}
MAX_RULE_LENGTH = 500
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
# Expansion never walks further than this many occurrences (or the dateutil search below).
MAX_STEPS = 1000
# The Gregorian calendar repeats every 400 years (146097 days, a whole number of weeks): a rule
# that matches nothing in 400 years from its anchor matches nothing ever.
_CYCLE_YEARS = 400
_UNTIL_UTC = re.compile(r"^\d{8}T\d{6}Z$")
_UNTIL_DATE = re.compile(r"^\d{8}$")


class RuleError(ValueError):
    """What is wrong with a recurrence, naming the part (`BYDAY=XX`, `time_zone`, ...)."""


@dataclass(frozen=True, slots=True)
class Recurrence:
    rule: str  # as written, normalised to upper case
    time_zone: str
    repeat_from: str  # "due" or "completion"
    remaining: int | None  # occurrences left after the current one (from COUNT); None: no COUNT

    def stored(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "time_zone": self.time_zone,
            "repeat_from": self.repeat_from,
            "remaining": self.remaining,
        }

    @classmethod
    def of(cls, stored: dict[str, object]) -> "Recurrence":
        remaining = stored.get("remaining")
        return cls(
            str(stored["rule"]),
            str(stored["time_zone"]),
            str(stored["repeat_from"]),
            remaining if isinstance(remaining, int) else None,
        )


def parts_of(rule: str) -> dict[str, str]:
    """The rule's parts, checked one by one; RuleError names the first bad one."""
    text = rule.strip().upper().removeprefix("RRULE:")
    if not text or len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"rule: 1 to {MAX_RULE_LENGTH} characters")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not value:
            raise RuleError(f"rule part {part!r}: not NAME=VALUE")
        if name not in _SUPPORTED:
            raise RuleError(f"rule part {part}: {name} is not supported")
        if name in parts:
            raise RuleError(f"rule part {part}: {name} given twice")
        parts[name] = value
    _check_numbers(parts)
    check_month_days(parts)
    return parts


def _check_numbers(parts: dict[str, str]) -> None:
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError("rule: FREQ is required")
    if freq not in _FREQUENCIES:
        raise RuleError(f"rule part FREQ={freq}: one of {', '.join(sorted(_FREQUENCIES))}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("rule parts COUNT and UNTIL: at most one of the two")
    for name, top in (("INTERVAL", MAX_INTERVAL), ("COUNT", MAX_COUNT)):
        if name in parts and not (parts[name].isdigit() and 1 <= int(parts[name]) <= top):
            raise RuleError(f"rule part {name}={parts[name]}: an integer from 1 to {top}")


def check_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleError(f"time_zone {name!r}: not an IANA time zone") from None


def _until(value: str, all_day: bool, zone: ZoneInfo) -> datetime:
    """UNTIL in local wall time. RFC 5545: a date for all-day rules, UTC for timed ones."""
    if all_day:
        if not _UNTIL_DATE.match(value):
            raise RuleError(f"rule part UNTIL={value}: a date (YYYYMMDD) for an all-day due")
        return datetime.strptime(value, "%Y%m%d")
    if not _UNTIL_UTC.match(value):
        raise RuleError(f"rule part UNTIL={value}: UTC (YYYYMMDDTHHMMSSZ) for a timed due")
    instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return instant.astimezone(zone).replace(tzinfo=None)


def build(parts: dict[str, str], anchor: datetime, all_day: bool, zone: ZoneInfo) -> rrule:
    """The rule without COUNT (kept as `remaining`), UNTIL in local time, from `anchor`."""
    if all_day and (parts["FREQ"] == "HOURLY" or _TIME_PARTS & parts.keys()):
        raise RuleError("rule: FREQ=HOURLY, BYHOUR and BYMINUTE need a timed due")
    text = [f"FREQ={parts['FREQ']}"]
    for name, value in parts.items():
        if name in ("FREQ", "COUNT"):
            continue
        if name == "UNTIL":
            value = _until(value, all_day, zone).strftime("%Y%m%dT%H%M%S")
        try:  # each part alone, so the error names it
            rrulestr(f"FREQ={parts['FREQ']};{name}={value}", dtstart=anchor)
        except (ValueError, TypeError, KeyError, IndexError):
            raise RuleError(f"rule part {name}={parts[name]}: not valid") from None
        text.append(f"{name}={value}")
    try:
        built: rrule = rrulestr(";".join(text), dtstart=anchor)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise RuleError(f"rule: {error}") from None
    return built


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_month_days(parts: dict[str, str]) -> None:
    """The classic never-matching rule (`BYMONTH=2;BYMONTHDAY=31`), refused without expanding."""
    if "BYMONTH" not in parts or "BYMONTHDAY" not in parts:
        return
    try:
        months = [int(month) for month in parts["BYMONTH"].split(",")]
        days = [abs(int(day)) for day in parts["BYMONTHDAY"].split(",")]
    except ValueError:
        return  # left to the part-by-part check
    if all(1 <= m <= 12 and day > _DAYS_IN_MONTH[m - 1] for m in months for day in days):
        raise RuleError(
            f"rule parts BYMONTH={parts['BYMONTH']};BYMONTHDAY={parts['BYMONTHDAY']}: "
            "no such day: yields no occurrence"
        )


def check_matches(rule: rrule, anchor: datetime) -> None:
    """Refuses a rule that yields nothing after its anchor, without walking to year 9999: the
    same rule anchored 400-year cycles later (the same calendar) runs out within 400 years."""
    shift = max(0, (9999 - _CYCLE_YEARS - anchor.year) // _CYCLE_YEARS) * _CYCLE_YEARS
    start = anchor.replace(year=anchor.year + shift)
    probe = rule.replace(dtstart=start, until=None)
    if probe.after(start) is None:
        raise RuleError("rule: yields no occurrence")
    # It does match, so this walk ends within a cycle: UNTIL may still come before all.
    if rule.after(anchor, inc=True) is None:
        raise RuleError("rule: yields no occurrence (UNTIL is before the due)")


def local_anchor(due_date: date | None, due_at: datetime | None, zone: ZoneInfo) -> datetime:
    if due_date is not None:
        return datetime.combine(due_date, time())
    assert due_at is not None
    return due_at.astimezone(zone).replace(tzinfo=None)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Wall time to UTC: a time in a gap takes the offset before it (02:30 -> 03:30); a time
    that occurs twice is the first (fold=0)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def occurrences(rule: rrule, after: datetime) -> Iterator[datetime]:
    """The rule's local occurrences strictly after `after` (local), at most MAX_STEPS."""
    yield from rule.xafter(after, count=MAX_STEPS, inc=False)
