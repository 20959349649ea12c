"""Engines for SQLite and PostgreSQL (including Neon's PgBouncer pooler), and `Database`, the
one way the app reaches them."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, Dialect, make_url
from sqlalchemy.engine.interfaces import CoreExecuteOptionsParameter, IsolationLevel
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.base import Executable
from sqlalchemy.util import greenlet_spawn

from app.clock import Clock, system_clock
from app.config import Settings
from app.db.fair_limiter import FairLimiter
from app.db.sqlite_driver import one_hop_aiosqlite
from app.errors import DatabaseBusy

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

    @property
    def is_sqlite_memory(self) -> bool:
        """One in-memory database per connection: SQLAlchemy shares a single one (StaticPool)."""
        return self.is_sqlite and self.url.database in (None, "", ":memory:")

    def connections(self, settings: Settings) -> int:
        """How many connections the engine's pool can hand out at once."""
        if self.is_sqlite:
            return 1 if self.is_sqlite_memory else SQLITE_POOL_SIZE
        return settings.db_pool_size + settings.db_max_overflow


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


# aiosqlite gives each connection a thread; SQLite runs one writer at a time anyway.
SQLITE_POOL_SIZE = 4


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """An engine for `settings`; with `autocommit`, its connections run each statement as its
    own transaction (no BEGIN / COMMIT round trips).

    The pool is fixed-size (overflow connections would be closed and reopened under load) and
    pings a connection only when it has been idle for a while, not before every checkout."""
    target = resolve_database_url(settings.database_url, settings.db_pooler)
    if target.is_sqlite:
        # In memory, SQLAlchemy keeps the one database on one shared connection (StaticPool).
        pool: dict[str, Any] = (
            {} if target.is_sqlite_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0}
        )
        engine = create_async_engine(
            target.url,
            isolation_level="AUTOCOMMIT" if autocommit else None,
            module=one_hop_aiosqlite(),
            # sqlite3's busy timeout: how long a writer waits for the write lock.
            connect_args={**target.connect_args, "timeout": settings.db_statement_timeout_seconds},
            skip_autocommit_rollback=True,
            hide_parameters=True,
            **pool,
        )
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    engine = create_async_engine(
        target.url,
        isolation_level="AUTOCOMMIT" if autocommit else None,
        # Client-side, so it holds behind PgBouncer too: a statement that gets no answer in
        # time (a frozen link, a lock held for long) fails, and the client gets a 503.
        # The ping of an idle connection is a statement too: `command_timeout` bounds it.
        connect_args={
            "command_timeout": settings.db_statement_timeout_seconds,
            "timeout": settings.db_connect_timeout_seconds,
            **target.connect_args,
        },
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_timeout=settings.db_pool_timeout_seconds,
        skip_autocommit_rollback=True,
        hide_parameters=True,
    )
    _ping_when_idle(engine, settings.db_ping_after_idle_seconds)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling, paid only when it can matter: a connection that sat
    idle (a restarted server, a Neon compute that scaled to zero) is pinged at checkout and
    replaced if dead; one in steady use skips the extra round trip."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _mark_idle(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure means: this connection is unusable
            # The pool discards the connection and checks out (or opens) another one.
            raise DisconnectionError(f"idle connection failed its ping: {error!r}") from error


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; the connection's busy timeout (sqlite3's
    # `timeout`) queues writers instead of failing them at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Off by default in SQLite: deleting a task must delete its tags, as on PostgreSQL.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_T = TypeVar("_T")


async def _to_the_end(work: Coroutine[Any, Any, _T]) -> _T:
    """Runs `work` in a task of its own to its end, even if this task is cancelled meanwhile;
    the cancellation is raised once `work` has ended (then, whatever `work` raised is dropped)."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError as error:
            cancelled = error
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation wins
        raise cancelled
    return task.result()


@asynccontextmanager
async def _pooled(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`engine.connect()`, except that a task cancelled while the pool hands it the connection
    still gives the connection back.

    Between the pool's checkout and `connect()` returning, SQLAlchemy awaits the driver (on
    SQLite, to set a transaction's isolation level on the connection). A cancellation landing
    there (a job worker stopped at shutdown, a request whose client left) left the connection
    checked out with nothing to return it, until the garbage collector found it ("non-checked-in
    connection", an SAWarning). So the connect runs to its end in a task of its own; if this task
    was cancelled meanwhile, the connection goes straight back and the cancellation goes on."""
    connection = engine.connect()
    try:
        await _to_the_end(connection.start())
    except asyncio.CancelledError:
        if connection.sync_connection is not None:
            # Whatever closing meets (the pool invalidates a connection it cannot reset), the
            # cancellation goes on: a worker told to stop must not take an error for a failure.
            with suppress(Exception):
                await _to_the_end(connection.close())
        raise
    try:
        yield connection
    finally:
        await _to_the_end(connection.close())  # as `async with engine.connect()` closes


class StatementConnection(AsyncConnection):
    """What `Database.connect()` hands out where each statement commits on its own: every
    statement takes a connection from the pool and gives it back before its await returns:
    checkout, execute and checkin in one greenlet.

    SQLAlchemy's asyncio layer runs each call (connect, execute, close) in a new greenlet, and
    each new greenlet maps a fresh 16 KiB frame stack and unmaps it at its end: ~10 us of system
    calls and page faults each, 5% of a GET. Here one statement is one greenlet. Nothing is
    held between statements, so each sees what the ones before it committed, as it would on one
    connection in autocommit; the caller's slot (`Database._connection_slot`) is still held for
    the whole block. The rows are read in full before the connection goes back."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> AsyncConnection:
        return self  # nothing to open before the first statement

    async def close(self) -> None:
        return None  # nothing is held between statements

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        return None

    @property
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    @dialect.setter
    def dialect(self, attr: Dialect) -> None:
        raise AttributeError("a StatementConnection's dialect is its engine's")

    async def execute(
        self,
        statement: Executable,
        parameters: Any = None,
        *,
        execution_options: CoreExecuteOptionsParameter | None = None,
    ) -> CursorResult[Any]:
        options = {**(execution_options or {}), "prebuffer_rows": True}
        return await greenlet_spawn(self._execute, statement, parameters, options)

    def _execute(
        self,
        statement: Executable,
        parameters: Any,
        options: CoreExecuteOptionsParameter,
    ) -> CursorResult[Any]:
        with self.sync_engine.connect() as connection:
            return connection.execute(statement, parameters, execution_options=options)


# The open unit of work of this request (`Database.unit_of_work`) and its owner.
_UNIT_OF_WORK: ContextVar[tuple[str, AsyncConnection] | None] = ContextVar(
    "unit_of_work", default=None
)


class Database:
    """Connections for the request path, and the unit of work for writes.

    Statements on `connect()` each commit when they succeed (the driver's autocommit), so a
    single-statement write has no commit to forget and a read pays no BEGIN / ROLLBACK; each
    takes a pooled connection for itself alone (`StatementConnection`). Work of
    several statements that must succeed or fail together runs in `transaction()`, which commits
    when its block ends and rolls back when it raises: in both cases before the handler returns,
    so before the response is sent.

    Behind PgBouncer (transaction pooling) only a transaction keeps a statement's prepare and
    execute on one server connection, so there `connect()` is a transaction committed at the
    end of its block.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock = system_clock,
        after_write: Callable[[str], None] = lambda owner: None,
    ) -> None:
        target = resolve_database_url(settings.database_url, settings.db_pooler)
        self.autocommit = not target.behind_pgbouncer
        self.is_sqlite = target.is_sqlite
        self.clock = clock
        # Told the owner of each committed write (the event streams' feed, app.db.feed).
        self._after_write = after_write
        # Committed writes in this process so far: an idle poller (the webhook worker) reads
        # it to wake early when there may be new events.
        self.writes = 0
        self.engine = create_engine(settings, autocommit=self.autocommit)
        # Requests take connections in arrival order (see FairLimiter); never more than the pool.
        self._limiter = FairLimiter(target.connections(settings))
        self._wait_seconds = settings.db_pool_timeout_seconds
        level: IsolationLevel = "SERIALIZABLE" if target.is_sqlite else "READ COMMITTED"
        # Shares the pool; each checkout leaves autocommit for the block and goes back after.
        self.transactional = (
            self.engine.execution_options(isolation_level=level) if self.autocommit else self.engine
        )
        self.sessionmaker = create_sessionmaker(self.transactional)

    @property
    def connections_in_use(self) -> int:
        return self._limiter.in_use

    @property
    def connection_waiters(self) -> int:
        return self._limiter.waiting

    @property
    def max_connections(self) -> int:
        return self._limiter.limit

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        unit = _UNIT_OF_WORK.get()
        if unit is not None:
            yield unit[1]
            return
        async with self._connection_slot():
            if self.autocommit:
                yield StatementConnection(self.engine)
                return
            # Not `_pooled`: this engine awaits nothing between the checkout and handing the
            # connection over, and two more tasks per request would cost 6% of a GET.
            async with self.engine.connect() as connection:
                yield connection
                await connection.commit()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        unit = _UNIT_OF_WORK.get()
        if unit is not None:
            yield unit[1]
            return
        async with (
            self._connection_slot(),
            _pooled(self.transactional) as connection,
            connection.begin(),
        ):
            yield connection

    @asynccontextmanager
    async def write(
        self, owner: str, *, several_statements: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """For a write of `owner`'s tasks: one statement (`connect()`), or a transaction for
        `several_statements`. Once committed, `after_write(owner)` is called. Inside a
        `unit_of_work(owner)`, it is that unit's connection, committed with it."""
        unit = _UNIT_OF_WORK.get()
        if unit is not None:
            if unit[0] != owner:
                raise RuntimeError("a unit of work writes one owner's data")
            yield unit[1]
            return
        async with self.transaction() if several_statements else self.connect() as connection:
            yield connection
        self._after_write(owner)
        self.wrote()

    def wrote(self) -> None:
        """Counts a committed write: task writes do, and so does work due at once that a poller
        should not wait for (a webhook ping or retry)."""
        self.writes += 1

    @asynccontextmanager
    async def write_for_many(self, owners: list[str]) -> AsyncIterator[AsyncConnection]:
        """A transaction that writes the data of several owners (a job's batch, never a
        request's); once committed, `after_write` is called for each owner in `owners` when
        the block ends (the block adds those it wrote for)."""
        async with self.transaction() as connection:
            yield connection
        for owner in owners:
            self._after_write(owner)
        self.wrote()

    @asynccontextmanager
    async def unit_of_work(self, owner: str) -> AsyncIterator[AsyncConnection]:
        """One transaction of `owner`'s writes that the database calls inside the block
        (`connect`, `transaction`, `write`) join, in this task: it commits when the block ends,
        or rolls back everything when it raises. For work made of other code's writes, such as
        an idempotent request (app.idempotency)."""
        async with self.write(owner, several_statements=True) as connection:
            unit = _UNIT_OF_WORK.set((owner, connection))
            try:
                yield connection
            finally:
                _UNIT_OF_WORK.reset(unit)

    @asynccontextmanager
    async def _connection_slot(self) -> AsyncIterator[None]:
        try:
            if not self._limiter.try_acquire():
                async with asyncio.timeout(self._wait_seconds):
                    await self._limiter.acquire()
        except TimeoutError:
            raise DatabaseBusy() from None
        try:
            yield
        finally:
            self._limiter.release()

    async def dispose(self) -> None:
        await self.engine.dispose()
