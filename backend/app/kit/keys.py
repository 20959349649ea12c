"""Values derived in Python from what a client wrote and stored beside it, so that SQL
compares, searches and sorts them the same way on SQLite and PostgreSQL: casefolded text
(neither database folds `ß`, `İ` or accents alike), and due dates as sortable integers."""

import unicodedata
from datetime import UTC, date, datetime, time

# Sorts after every real due date: tasks without one come last, ascending or descending.
NO_DUE = 2**62
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fold(text: str) -> str:
    """The key for case-insensitive comparison: one Unicode spelling (NFC), then casefolded
    (`Straße` and `STRASSE` both give `strasse`)."""
    return unicodedata.normalize("NFC", text).casefold()


def microseconds(instant: datetime) -> int:
    """An aware datetime as microseconds since the Unix epoch: exact, and an integer."""
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def start_of_day(day: date) -> datetime:
    """Where an all-day date sorts among instants: the start of that day in UTC, so two all-day
    dates compare exactly as their dates do, in every time zone."""
    return datetime.combine(day, time(), tzinfo=UTC)


def due_keys(due_date: date | None, due_at: datetime | None) -> tuple[int, int]:
    """(`due_key`, `due_key_desc`): ascending sort keys for "soonest first" and "latest
    first", both putting a task without a due date last."""
    if due_date is not None:
        instant = microseconds(start_of_day(due_date))
    elif due_at is not None:
        instant = microseconds(due_at)
    else:
        return NO_DUE, NO_DUE
    return instant, -instant
