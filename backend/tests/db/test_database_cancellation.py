"""A task cancelled while the pool hands it a connection (a job worker at shutdown, a request
whose client went away) gives the connection back: none is left checked out for the garbage
collector to find."""

import asyncio
import gc
import warnings
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import QueuePool

from app.db.database import Database

Opening = Callable[[Database], AbstractAsyncContextManager[AsyncConnection]]
OPENINGS = [
    pytest.param(lambda database: database.connect(), id="connect"),
    pytest.param(lambda database: database.transaction(), id="transaction"),
    pytest.param(lambda database: database.write("owner"), id="write"),
    pytest.param(lambda database: database.write_for_many(["owner"]), id="write-for-many"),
]


def checked_out(database: Database) -> int:
    """How many of the pool's connections are out (not back in the pool)."""
    pool = database.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def cancelled_at_checkout(database: Database, work: Coroutine[Any, Any, None]) -> bool:
    """Runs `work` in a task cancelled just as the pool hands it a connection (shutdown arriving
    then); whether it was. The cancellation lands on the next await, whatever SQLAlchemy still
    does before `connect()` returns (on SQLite, setting a transaction's isolation level)."""
    task = asyncio.create_task(work)
    cancelled: list[bool] = []

    def cancel(*_: Any) -> None:
        if not cancelled:
            cancelled.append(task.cancel())

    event.listen(database.engine.sync_engine, "checkout", cancel)
    try:
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        event.remove(database.engine.sync_engine, "checkout", cancel)
    return cancelled == [True]


@pytest.mark.parametrize("opening", OPENINGS)
async def test_a_task_cancelled_as_its_connection_is_checked_out_gives_it_back(
    database: Database, opening: Opening
) -> None:
    ran: list[str] = []

    async def use() -> None:
        async with opening(database) as connection:
            await connection.execute(text("SELECT 1"))
            ran.append("body")

    assert await cancelled_at_checkout(database, use())
    assert checked_out(database) == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()  # a connection the cancelled task still held would show up here
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []
    assert ran == []
    assert database.connections_in_use == 0
    async with database.connect() as connection:  # the pool still works
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
