"""Engines for SQLite and PostgreSQL (including Neon's PgBouncer pooler), and `Database`, the
one way the app reaches them."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
# libpq options that asyncpg does not take as keywords; sslmode is translated below.
_LIBPQ_ONLY_OPTIONS = ("sslmode", "channel_binding", "connect_timeout")


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    behind_pgbouncer: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def resolve_database_url(raw_url: str, pooler: str = "auto") -> DatabaseTarget:
    """Turn any URL a user may paste (Neon's dashboard, Heroku-style, SQLAlchemy) into an
    async-driver URL plus the connect arguments the driver needs."""
    url = make_url(raw_url.strip())
    backend, _, driver = url.drivername.partition("+")
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    if backend == "sqlite":
        return DatabaseTarget(url.set(drivername="sqlite+aiosqlite"), {"timeout": 30})

    url = url.set(drivername="postgresql+asyncpg")
    connect_args: dict[str, Any] = {}
    sslmode = url.query.get("sslmode") or url.query.get("ssl")
    if sslmode:
        connect_args["ssl"] = sslmode if isinstance(sslmode, str) else sslmode[0]
    if "connect_timeout" in url.query:
        connect_args["timeout"] = float(str(url.query["connect_timeout"]))
    url = url.difference_update_query([*_LIBPQ_ONLY_OPTIONS, "ssl"])

    behind_pgbouncer = pooler == "pgbouncer" or (pooler == "auto" and "-pooler" in (url.host or ""))
    if behind_pgbouncer:
        # Transaction-mode PgBouncer hands each transaction to any server connection, so
        # named prepared statements must be unique and never cached (SQLAlchemy asyncpg docs).
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = _unique_statement_name
        url = url.update_query_dict({"prepared_statement_cache_size": "0"})
    return DatabaseTarget(url, connect_args, behind_pgbouncer)


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4()}__"


def create_engine(settings: Settings) -> AsyncEngine:
    target = resolve_database_url(settings.database_url, settings.db_pooler)
    if target.is_sqlite:
        engine = create_async_engine(target.url, connect_args=target.connect_args)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    return create_async_engine(
        target.url,
        connect_args=target.connect_args,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_pre_ping=True,
    )


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout queues writers instead of
    # failing them with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class Database:
    """Connections for the request path, and the unit of work for writes.

    A single statement runs on `connect()` and is its own transaction: committed by the database
    when it succeeds, so there is no commit to forget. Work of several statements that must
    succeed or fail together runs in `transaction()`, which commits when its block ends and
    rolls back when it raises; either way before the handler returns, so before the response.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = create_sessionmaker(engine)

    def connect(self) -> AsyncConnection:
        return self.engine.connect()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
