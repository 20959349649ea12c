"""When a task's reminders fire: pure functions of the task's due, its reminders as stored
and "now". A relative reminder follows the due (so it re-arms when a recurring task moves
on); an absolute one fires once, at its instant. A time already past when planned is not
planned (a reminder is never fired for the moment it was written)."""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from app.reminders.schemas import before_of


class ReminderNeedsTime(ValueError):
    """A relative reminder on a task without a timed due."""

    def __init__(self, number: int) -> None:
        super().__init__(f"reminders[{number}].before: needs a timed due (due_at)")


def check(reminders: Sequence[dict[str, Any]] | None, due_at: datetime | None) -> None:
    for number, reminder in enumerate(reminders or ()):
        if "before" in reminder and due_at is None:
            raise ReminderNeedsTime(number)


def fire_times(
    reminders: Sequence[dict[str, Any]] | None, due_at: datetime | None, now: datetime
) -> Iterator[tuple[int, datetime]]:
    """(number, instant) of each reminder still to come."""
    for number, reminder in enumerate(reminders or ()):
        if "before" in reminder:
            if due_at is None:
                continue
            at = due_at - before_of(reminder["before"])
        else:
            at = datetime.fromisoformat(reminder["at"])
        if at > now:
            yield number, at
