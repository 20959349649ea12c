"""The tests' clock: every test that depends on "now" reads it here, and the app under test
gets the same one (`create_app(settings, clock=CLOCK)`), so no test depends on the day it runs.

It starts each test at `START` and moves on with real elapsed time, so rows written one after
another still get increasing timestamps; a test that needs another moment calls `set` or
`advance`. Servers started in a subprocess run on the wall clock: tests against them compute
their dates from `wall_now()`, never write a literal date that is compared with today."""

import time
from datetime import UTC, datetime, timedelta

# A fixed moment: dates in tests are written relative to it (e.g. 2026-12-01 is "in 5 days").
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class TestClock:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, start: datetime = START) -> None:
        self.set(start)

    def set(self, moment: datetime) -> None:
        self._at, self._since = moment, time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self() + delta)

    def __call__(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._since)


CLOCK = TestClock()


def now() -> datetime:
    """The tests' "now": what the app under test reads too."""
    return CLOCK()


def wall_now() -> datetime:
    """The wall clock, for servers started in a subprocess (they cannot share `CLOCK`)."""
    return datetime.now(UTC)
