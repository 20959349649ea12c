"""aiosqlite for SQLAlchemy with one thread hand-off per statement instead of four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes as four separate
trips to aiosqlite's worker thread. Each trip is a queue put, a thread wake-up and a hand-back
to the event loop; on a small query they cost more than SQLite itself. The cursor below does
all four in one trip, then serves the rows from memory, exactly as SQLAlchemy's cursor does
after its fetch. Everything else (connections, transactions, errors, types) is SQLAlchemy's.

Used through `create_async_engine(..., module=one_hop_aiosqlite())`.
"""

import sqlite3
from collections import deque
from collections.abc import Sequence
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In aiosqlite's thread: the whole life of one cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def _make_new_cursor(self, connection: Any) -> Any:
        return None  # made in the worker thread, per statement

    def _aenter_cursor(self, cursor: Any) -> Any:
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        return None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None  # nothing is open: the rows are already in memory

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._call(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._call(operation, seq_of_parameters, many=True)

    def _call(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: Any = self._connection  # aiosqlite.Connection; _execute is untyped
        try:
            outcome: _Outcome = await_(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect sees: the same, but its connections
    hand out one-hop cursors."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        thread = connection if isinstance(connection, Thread) else connection._thread
        thread.daemon = True  # as SQLAlchemy does: a forgotten connection must not block exit
        return OneHopConnection(self, await_(connection))


def one_hop_aiosqlite() -> OneHopAiosqlite:
    return OneHopAiosqlite(aiosqlite, sqlite3)
