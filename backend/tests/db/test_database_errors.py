"""Database failures are classified by cause: the server being unreachable, starting up or
shutting down, or a connection dropped mid-statement is a 503 DATABASE_UNAVAILABLE; a bad
statement is a bug (500). And a pooled connection the server dropped while idle is replaced
before use, so the request that takes it succeeds."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.errors import is_database_unavailable
from tests.support.helpers import ALICE, auth, make_settings, running_app


class _DriverError(Exception):
    """What asyncpg raises: an exception carrying the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(driver_error: Exception, *, invalidated: bool = False) -> DBAPIError:
    """As SQLAlchemy wraps a driver error (the driver error is the cause)."""
    try:
        raise driver_error
    except Exception as cause:
        error = DBAPIError("SELECT 1", None, cause, connection_invalidated=invalidated)
        error.__cause__ = cause
        return error


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(Exception("connection was closed in the middle of operation"), invalidated=True),
        _wrapped(_DriverError("08006")),  # connection failure
        _wrapped(_DriverError("08003")),  # connection does not exist
        _wrapped(_DriverError("57P01")),  # admin shutdown
        _wrapped(_DriverError("57P03")),  # cannot connect now: starting up
        _wrapped(ConnectionResetError()),
        OperationalError("SELECT 1", None, Exception("unable to open database file")),
        PoolTimeout("no connection free"),
        ConnectionRefusedError(),
    ],
    ids=repr,
)
def test_unavailability_is_recognised_by_cause(error: Exception) -> None:
    assert is_database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", None, _DriverError("23505")),  # unique violation: a bug
        ProgrammingError("SELEC", None, _DriverError("42601")),  # syntax error: a bug
        _wrapped(_DriverError("22001")),  # string too long: a bug (validation missed it)
        ValueError("naive datetime given to a UTC column"),
    ],
    ids=repr,
)
def test_bugs_are_not_mistaken_for_unavailability(error: Exception) -> None:
    assert not is_database_unavailable(error)


@pytest.fixture
async def pg_app(postgres_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # Ping any connection idle for more than 0 s: every checkout after a pause.
    settings = make_settings(database_url=postgres_url, db_ping_after_idle_seconds=0)
    async with running_app(settings) as started:
        yield started


async def _terminate_connections(url: str) -> int:
    """Ends every other session on the database, as a server restart or a Neon compute scaling
    to zero would."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            terminated = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(terminated or 0)
    finally:
        await engine.dispose()


async def test_connections_dropped_while_idle_are_replaced_before_use(
    pg_app: tuple[FastAPI, httpx.AsyncClient], postgres_url: str
) -> None:
    _, client = pg_app
    for _ in range(3):  # warm the pool
        assert (await client.get("/api/tasks", headers=auth(ALICE))).status_code == 200

    assert await _terminate_connections(postgres_url) >= 1

    for _ in range(3):
        response = await client.get("/api/tasks", headers=auth(ALICE))
        assert response.status_code == 200, response.text
