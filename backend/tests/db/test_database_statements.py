"""`Database.connect()` where each statement commits on its own (not behind PgBouncer): a
statement takes a connection from the pool and gives it back before its await returns, with its
rows read in full; the block keeps its place in the line for connections all along."""

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from app.db.database import Database, StatementConnection
from tests.db.test_database_cancellation import checked_out


async def test_a_statement_gives_its_connection_back_with_its_rows_read(
    database: Database,
) -> None:
    async with database.connect() as connection:
        assert isinstance(connection, StatementConnection)
        result = await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))
        assert checked_out(database) == 0
        assert database.connections_in_use == 1  # the block's slot is held to its end
        assert result.scalars().all() == [1, 2]
        assert await connection.scalar(text("SELECT 3")) == 3
        assert connection.dialect.name == database.engine.dialect.name
    assert database.connections_in_use == 0


async def test_each_statement_sees_what_the_ones_before_it_committed(database: Database) -> None:
    table = f"statement_check_{uuid.uuid4().hex}"
    async with database.connect() as connection:
        await connection.execute(text(f"CREATE TABLE {table} (n INTEGER)"))
        try:
            await connection.execute(
                text(f"INSERT INTO {table} (n) VALUES (:n)"), [{"n": 1}, {"n": 2}]
            )
            changed = await connection.execute(text(f"UPDATE {table} SET n = n * 10"))
            assert changed.rowcount == 2
            assert await connection.scalar(text(f"SELECT sum(n) FROM {table}")) == 30
        finally:
            await connection.execute(text(f"DROP TABLE {table}"))
    assert checked_out(database) == 0


async def test_a_failed_statement_gives_its_connection_back(database: Database) -> None:
    async with database.connect() as connection:
        with pytest.raises(DBAPIError):
            await connection.execute(text("SELECT * FROM no_such_table"))
        assert checked_out(database) == 0
        assert await connection.scalar(text("SELECT 1")) == 1  # the block goes on


async def test_a_statement_cancelled_while_it_runs_gives_its_connection_back(
    database: Database,
) -> None:
    slow = (
        "SELECT pg_sleep(5)"
        if database.engine.dialect.name == "postgresql"
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000)"
        " SELECT count(*) FROM c"
    )
    started = asyncio.Event()

    def on_checkout(*_: Any) -> None:
        started.set()

    async def run() -> None:
        async with database.connect() as connection:
            await connection.execute(text(slow))

    event.listen(database.engine.sync_engine, "checkout", on_checkout)
    try:
        task = asyncio.create_task(run())
        await started.wait()
        await asyncio.sleep(0.05)  # the statement is under way
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        event.remove(database.engine.sync_engine, "checkout", on_checkout)
    assert checked_out(database) == 0
    assert database.connections_in_use == 0
    async with database.connect() as connection:  # the pool still works
        assert await connection.scalar(text("SELECT 1")) == 1
