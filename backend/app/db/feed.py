"""Who is listening for whose changes, in this process: the event streams' wake-up calls.

A change wakes the user's streams; each stream then reads the delta since its last token (the
same query as /api/tasks/changes). A wake-up is one flag, however many changes arrive while a
stream is busy or its client is slow: nothing is queued per change, so nothing can pile up.

On SQLite the writes of this process wake its streams directly. On PostgreSQL a committed
write only puts its user in the outbox; app.db.listener sends the outbox as one NOTIFY and
wakes the streams of every process from what it LISTENs to.

The outbox is bounded but loses nothing: past MAX_OUTBOX names (the LISTEN connection is down,
or slower than the writes) it stops naming users and announces "everyone" instead, so every
stream of every process re-reads its delta. `overflows` counts those (a Prometheus metric).
"""

import asyncio
from collections.abc import Callable

from app.errors import ServerStreamLimit, UserStreamLimit

CHANNEL = "taskapi_changes"
MAX_OUTBOX = 10_000
EVERYONE = "*"  # the NOTIFY payload that wakes every stream (a list names users)


class Subscription:
    def __init__(self, release: Callable[["Subscription"], None]) -> None:
        self._changed = asyncio.Event()
        self._release: Callable[[Subscription], None] | None = release
        self.server_closing = False  # the process is shutting down: end the stream now

    def close(self) -> None:
        """Gives the slot back; idempotent."""
        if self._release is not None:
            self._release(self)
            self._release = None

    def wake(self) -> None:
        self._changed.set()

    def end_for_shutdown(self) -> None:
        self.server_closing = True
        self._changed.set()

    async def wait(self, seconds: float) -> bool:
        """True when woken (by a change, or a reconnected listener), False after `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                await self._changed.wait()
        except TimeoutError:
            return False
        self._changed.clear()
        return True


class ChangeFeed:
    def __init__(self, max_per_user: int, max_total: int) -> None:
        self._by_user: dict[str, set[Subscription]] = {}
        self._total = 0
        self._max_per_user = max_per_user
        self._max_total = max_total
        # Users whose writes committed here, to announce to every process (PostgreSQL).
        self.outbox: set[str] | None = None
        self.outbox_ready = asyncio.Event()
        # The outbox overflowed since the last NOTIFY: the next one wakes everyone.
        self.outbox_overflowed = False
        self.overflows = 0

    def written(self, user_id: str) -> None:
        """A write of `user_id`'s tasks committed in this process."""
        if self.outbox is None:
            self.changed(user_id)
            return
        if self.outbox_overflowed:
            return  # everyone is woken already
        if len(self.outbox) < MAX_OUTBOX or user_id in self.outbox:
            self.outbox.add(user_id)
        else:
            self.outbox_overflowed = True
            self.overflows += 1
            self.outbox.clear()
        self.outbox_ready.set()

    def take_outbox(self) -> list[str] | None:
        """The users to announce, sorted, and empties the outbox; None for everyone."""
        assert self.outbox is not None
        users, self.outbox = self.outbox, set()
        if self.outbox_overflowed:
            self.outbox_overflowed = False
            return None
        return sorted(users)

    def subscribe(self, user_id: str) -> Subscription:
        """A subscription, to `close()` when the stream ends; 429 past either limit."""
        if self.open_streams(user_id) >= self._max_per_user:
            raise UserStreamLimit()
        if self._total >= self._max_total:
            raise ServerStreamLimit()

        def release(subscription: Subscription) -> None:
            mine.discard(subscription)
            self._total -= 1
            if not mine:
                del self._by_user[user_id]

        mine = self._by_user.setdefault(user_id, set())
        subscription = Subscription(release)
        mine.add(subscription)
        self._total += 1
        return subscription

    def changed(self, user_id: str) -> None:
        for subscription in self._by_user.get(user_id, ()):
            subscription.wake()

    def wake_all(self) -> None:
        """After a gap in notifications (the listener reconnected): every stream re-reads."""
        for subscriptions in self._by_user.values():
            for subscription in subscriptions:
                subscription.wake()

    def end_all(self) -> None:
        """The process is shutting down: every stream sends its `close` event and ends."""
        for subscriptions in self._by_user.values():
            for subscription in subscriptions:
                subscription.end_for_shutdown()

    def open_streams(self, user_id: str | None = None) -> int:
        return self._total if user_id is None else len(self._by_user.get(user_id, ()))
