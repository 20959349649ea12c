"""FairLimiter: at most N holders, admitted in arrival order, and a cancelled waiter never
loses a slot for everyone else."""

import asyncio

import pytest

from app.db.fair_limiter import FairLimiter


async def test_admits_at_most_the_limit() -> None:
    limiter = FairLimiter(2)
    await limiter.acquire()
    await limiter.acquire()
    third = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    assert not third.done()
    limiter.release()
    await asyncio.wait_for(third, 1)


async def test_waiters_are_admitted_in_arrival_order_even_when_newcomers_arrive() -> None:
    limiter = FairLimiter(1)
    await limiter.acquire()
    admitted: list[int] = []

    async def worker(number: int) -> None:
        await limiter.acquire()
        admitted.append(number)
        await asyncio.sleep(0)
        limiter.release()

    waiters = [asyncio.create_task(worker(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    limiter.release()
    # A newcomer arriving right after the release must queue behind the five.
    late = asyncio.create_task(worker(99))
    await asyncio.wait_for(asyncio.gather(*waiters, late), 1)
    assert admitted == [0, 1, 2, 3, 4, 99]


async def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    limiter = FairLimiter(1)
    await limiter.acquire()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await limiter.acquire()
    limiter.release()
    await asyncio.wait_for(limiter.acquire(), 1)  # the slot was not handed to the dead waiter


async def test_a_waiter_cancelled_after_being_handed_the_slot_passes_it_on() -> None:
    limiter = FairLimiter(1)
    await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    limiter.release()  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)
