"""Recurrence rules as pure functions (app.recurrence): validation naming the part, bounded
expansion, the next occurrence from the due or from completion, COUNT/UNTIL, and wall times
across daylight-saving changes in a northern and a southern zone. No database."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.recurrence.rules import RuleError
from app.recurrence.series import Due, checked, next_step, upcoming

BERLIN, SYDNEY = "Europe/Berlin", "Australia/Sydney"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def timed(at: datetime) -> Due:
    return Due(None, at)


@pytest.mark.parametrize(
    ("rule", "zone", "due", "names"),
    [
        ("FREQ=DAILY;BYDAY=XX", "UTC", timed(utc(2027, 1, 1, 9)), "BYDAY=XX"),
        ("FREQ=SECONDLY", "UTC", timed(utc(2027, 1, 1, 9)), "FREQ=SECONDLY"),
        ("FREQ=MINUTELY", "UTC", timed(utc(2027, 1, 1, 9)), "FREQ=MINUTELY"),
        ("FREQ=DAILY;BYFOO=1", "UTC", timed(utc(2027, 1, 1, 9)), "BYFOO"),
        ("FREQ=DAILY;INTERVAL=0", "UTC", timed(utc(2027, 1, 1, 9)), "INTERVAL=0"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "UTC", Due(date(2027, 1, 1), None), "COUNT"),
        ("INTERVAL=2", "UTC", timed(utc(2027, 1, 1, 9)), "FREQ"),
        ("FREQ=DAILY", "Mars/Olympus", timed(utc(2027, 1, 1, 9)), "time_zone"),
        ("FREQ=DAILY;UNTIL=20270301", "UTC", timed(utc(2027, 1, 1, 9)), "UNTIL=20270301"),
        ("FREQ=DAILY;UNTIL=20270301T000000Z", "UTC", Due(date(2027, 1, 1), None), "UNTIL"),
        ("FREQ=HOURLY", "UTC", Due(date(2027, 1, 1), None), "HOURLY"),
        ("FREQ=DAILY", "UTC", Due(None, None), "due"),
        ("FREQ=DAILY;UNTIL=20261201T000000Z", "UTC", timed(utc(2027, 1, 1, 9)), "no occurrence"),
    ],
)
def test_a_bad_recurrence_is_refused_naming_the_part(
    rule: str, zone: str, due: Due, names: str
) -> None:
    with pytest.raises(RuleError, match=names):
        checked(rule, zone, "due", due)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31;BYSETPOS=1",
        "FREQ=DAILY;BYWEEKNO=1;BYMONTH=7",  # week 1 is never in July: found by expanding
    ],
)
def test_a_rule_that_never_matches_is_refused_without_walking_to_year_9999(rule: str) -> None:
    # Bounded: the probe walks one 400-year calendar cycle, not 8000 years (seconds each).
    with pytest.raises(RuleError, match="yields no occurrence"):
        checked(rule, "UTC", "due", timed(utc(2027, 1, 1, 9)))


def test_last_friday_of_the_month_from_the_due_skips_missed_ones() -> None:
    due = timed(utc(2027, 1, 29, 17))  # the last Friday of January 2027, 18:00 in Berlin
    recurrence = checked("FREQ=MONTHLY;BYDAY=-1FR", BERLIN, "due", due)
    step = next_step(recurrence, due, now=utc(2027, 4, 1, 12))  # February and March missed
    assert step.due == timed(utc(2027, 4, 30, 16))  # 18:00 CEST


def test_from_completion_counts_from_the_day_of_completion_at_the_due_time() -> None:
    due = timed(utc(2027, 1, 4, 8))  # 09:00 Berlin
    recurrence = checked("FREQ=DAILY;INTERVAL=3", BERLIN, "completion", due)
    step = next_step(recurrence, due, now=utc(2027, 1, 10, 15))
    assert step.due == timed(utc(2027, 1, 13, 8))


def test_count_runs_out() -> None:
    due = Due(date(2027, 1, 1), None)
    recurrence = checked("FREQ=WEEKLY;COUNT=2", "UTC", "due", due)
    assert recurrence.remaining == 1
    second = next_step(recurrence, due, now=utc(2026, 12, 1))
    assert second.due == Due(date(2027, 1, 8), None)
    assert second.recurrence.remaining == 0
    assert next_step(second.recurrence, second.due, now=utc(2026, 12, 1)).due is None


def test_until_runs_out() -> None:
    due = Due(date(2027, 1, 1), None)
    recurrence = checked("FREQ=DAILY;UNTIL=20270102", "UTC", "due", due)
    second = next_step(recurrence, due, now=utc(2026, 12, 1))
    assert second.due == Due(date(2027, 1, 2), None)
    assert next_step(second.recurrence, Due(date(2027, 1, 2), None), utc(2026, 12, 1)).due is None


def test_all_day_recurrences_stay_dates_and_today_still_counts() -> None:
    due = Due(date(2027, 3, 1), None)
    recurrence = checked("FREQ=DAILY", SYDNEY, "due", due)
    # 2027-03-10 08:00 in Sydney: the 1st to the 9th were missed, today's is next.
    step = next_step(recurrence, due, now=utc(2027, 3, 9, 21))
    assert step.due == Due(date(2027, 3, 10), None)


@pytest.mark.parametrize(
    ("zone", "first_due", "expected"),
    [
        # 09:00 in Berlin stays 09:00 across spring forward (28 March 2027) ...
        (BERLIN, utc(2027, 3, 27, 8), [utc(2027, 3, 27, 8), utc(2027, 3, 28, 7)]),
        # ... and autumn back (31 October 2027).
        (BERLIN, utc(2027, 10, 30, 7), [utc(2027, 10, 30, 7), utc(2027, 10, 31, 8)]),
        # Sydney, southern hemisphere: DST ends on 4 April 2027 and starts on 3 October.
        (SYDNEY, utc(2027, 4, 2, 22), [utc(2027, 4, 2, 22), utc(2027, 4, 3, 23)]),
        (SYDNEY, utc(2027, 10, 1, 23), [utc(2027, 10, 1, 23), utc(2027, 10, 2, 22)]),
    ],
)
def test_a_daily_time_stays_the_same_wall_time_across_dst(
    zone: str, first_due: datetime, expected: list[datetime]
) -> None:
    recurrence = checked("FREQ=DAILY", zone, "due", timed(first_due))
    found = upcoming(recurrence, timed(first_due), first_due, first_due + timedelta(days=2), 2)
    assert [due.at for due in found] == expected


@pytest.mark.parametrize(
    ("zone", "day_before", "gap_day", "ambiguous_day"),
    [
        # 02:30 does not exist on the spring-forward day: it becomes 03:30 (the offset before
        # the gap); on the autumn day it exists twice: the first (summer time) is taken.
        (BERLIN, utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30), utc(2027, 10, 31, 0, 30)),
        (SYDNEY, utc(2027, 10, 1, 16, 30), utc(2027, 10, 2, 16, 30), utc(2027, 4, 3, 15, 30)),
    ],
)
def test_missing_and_doubled_wall_times(
    zone: str, day_before: datetime, gap_day: datetime, ambiguous_day: datetime
) -> None:
    recurrence = checked("FREQ=DAILY", zone, "due", timed(day_before))
    step = next_step(recurrence, timed(day_before), now=day_before - timedelta(days=1))
    assert step.due == timed(gap_day)
    before_fold = ambiguous_day - timedelta(days=1)
    recurrence = checked("FREQ=DAILY", zone, "due", timed(before_fold))
    step = next_step(recurrence, timed(before_fold), now=before_fold - timedelta(days=1))
    assert step.due == timed(ambiguous_day)


def test_occurrences_are_bounded() -> None:
    start = utc(2027, 1, 1, 9)
    recurrence = checked("FREQ=HOURLY", "UTC", "due", timed(start))
    found = upcoming(recurrence, timed(start), start, start + timedelta(days=3650), 100)
    assert len(found) == 100
