"""Shared column types, SQL that differs by dialect, and the metadata naming convention (set
once, used by Alembic)."""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.sql.type_api import _ResultProcessorType
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so we store naive UTC and
    put the offset back on the way out. Naive input is refused: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> _ResultProcessorType[datetime] | None:
        # Every row pays for this, twice: take the shortest road each driver allows.
        if dialect.name == "postgresql" and dialect.driver == "asyncpg":
            return None  # asyncpg already decodes timestamptz as an aware UTC datetime
        if dialect.name == "sqlite":
            return _utc_from_sqlite
        return super().result_processor(dialect, coltype)


def _utc_from_sqlite(value: str | None) -> datetime | None:
    """SQLAlchemy's SQLite storage ('YYYY-MM-DD HH:MM:SS.ffffff', naive UTC), in one step.
    (Parsing the offset is eight times faster than `.replace(tzinfo=UTC)` afterwards.)"""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


class TagList(TypeDecorator[list[str]]):
    """A task's tag names as a JSON array in a text column: read back with the row in the same
    statement (no join on the hot path), and compared as text, so an UPDATE can tell whether
    the list really changed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[str] | None:
        return _tags_from_text(value)

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> _ResultProcessorType[list[str]] | None:
        return _tags_from_text  # every row of every list: no wrapper around it


def _tags_from_text(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [] if value == "[]" else list(orjson.loads(value))


class JsonText(TypeDecorator[Any]):
    """A JSON value in a text column, NULL for None (recurrence, reminders): compared as text,
    like `TagList`, so an UPDATE can tell whether it really changed on both databases."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


class greatest(GenericFunction[datetime]):  # noqa: N801 (SQL function names are lower case)
    """The larger of its arguments: GREATEST on PostgreSQL, the two-argument max() on SQLite."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_on_sqlite(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"
