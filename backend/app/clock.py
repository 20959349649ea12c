"""The one source of "now" for the app's rules: timestamps, `overdue`, expiry of keys and
tombstones. The app reads it through `Database.clock`; tests hand the app a clock they control
(tests/support/clock.py), so no test depends on the day it runs."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)
