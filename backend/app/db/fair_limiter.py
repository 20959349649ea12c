"""A first-come, first-served limit on concurrent work."""

import asyncio
from collections import deque


class FairLimiter:
    """At most `limit` holders at a time, admitted strictly in arrival order.

    asyncio.Queue (under SQLAlchemy's async pool) lets a newcomer take a connection that was
    just released to a waiter, and the waiter goes back to the end of the line: under load a
    few unlucky requests wait for seconds. Here a release hands the slot straight to the
    oldest waiter, so waiting time follows arrival order and the tail stays close to the median.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        return self.limit - self._free

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody is waiting for it."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes directly: no one can cut in
                return
        self._free += 1
