"""What `GET /api/tasks` was asked for, parsed and normalised: the filter, the sort order and
the paging mode. Built by the route's dependency; read by the service, the cursor and the
repository."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from app.kit.keys import microseconds, start_of_day

SortKey = Literal["created_at", "updated_at", "due", "priority", "title", "position"]
SORT_KEYS: tuple[SortKey, ...] = (
    "created_at",
    "updated_at",
    "due",
    "priority",
    "title",
    "position",
)
# Sorts whose key is text (the others are integers, or timestamps carried as integers).
TEXT_SORTS: tuple[SortKey, ...] = ("title", "position")
Q_MAX_LENGTH = 100
MAX_TAG_FILTERS = 20


@dataclass(frozen=True, slots=True)
class DueBound:
    """One end of a due range. Timed tasks compare with `instant`; all-day tasks compare their
    date with `day`, the bound's own calendar date (in the bound's offset)."""

    instant: datetime
    day: date

    @classmethod
    def before(cls, value: date | datetime) -> "DueBound":
        if isinstance(value, datetime):
            return cls(value.astimezone(UTC), value.date())
        return cls(start_of_day(value), value)  # before the day starts (in UTC)

    @classmethod
    def after(cls, value: date | datetime) -> "DueBound":
        if isinstance(value, datetime):
            return cls(value.astimezone(UTC), value.date())
        # After the whole day (in UTC): the last microsecond of it, compared with ">".
        return cls(start_of_day(value + timedelta(days=1)) - timedelta(microseconds=1), value)

    def canonical(self) -> list[object]:
        return [microseconds(self.instant), self.day.isoformat()]


@dataclass(frozen=True, slots=True)
class TaskFilter:
    completed: bool | None = None
    priorities: tuple[int, ...] = ()  # any of these ranks
    tags: tuple[str, ...] = ()  # all of these folded names
    due_before: DueBound | None = None
    due_after: DueBound | None = None
    overdue: bool = False
    text: str | None = None  # folded
    parent: uuid.UUID | None = None  # only this task's subtasks
    top_level: bool = False  # only tasks without a parent
    list_id: uuid.UUID | None = None  # tasks in this list
    no_list: bool = False  # tasks in no list

    @property
    def is_empty(self) -> bool:
        return self == _NO_FILTER


_NO_FILTER = TaskFilter()


@dataclass(frozen=True, slots=True)
class TaskQuery:
    filter: TaskFilter
    sort: SortKey = "created_at"
    descending: bool = True
    # Cursor mode: a `cursor` parameter (empty on the first page) or any filter or sort asked
    # for; without either the list pages by offset, exactly as before cursors existed.
    cursor: str | None = None
    uses_cursor: bool = False

    @property
    def is_default(self) -> bool:
        return self.filter.is_empty and (self.sort, self.descending) == ("created_at", True)

    def fingerprint(self) -> bytes:
        """A digest of everything that decides which rows come and in what order: a cursor is
        valid only for the query it came from."""
        f = self.filter
        canonical = [
            f.completed,
            sorted(f.priorities),
            sorted(f.tags),
            f.due_before.canonical() if f.due_before else None,
            f.due_after.canonical() if f.due_after else None,
            f.overdue,
            f.text,
            f.parent.hex if f.parent else None,
            f.top_level,
            self.sort,
            self.descending,
        ]
        if f.list_id is not None or f.no_list:  # appended: cursors from before lists stay valid
            canonical.append("none" if f.no_list else str(f.list_id))
        return hashlib.sha256(json.dumps(canonical).encode()).digest()
