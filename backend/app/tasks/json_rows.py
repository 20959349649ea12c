"""A task row as the API's JSON, rendered by the database: what a list page sends, one text
per row, joined into the array by the caller.

A page of 100 tasks cost the server 100 rows of column decoding (UUIDs, timestamps, the tags'
JSON) and then their encoding again; here the database writes the bytes the API would write
(PostgREST's approach). The keys, their order and every value's text match what
`app.tasks.repository.record` and `app.http.responses.json_bytes` produce, byte for byte:
tests/tasks/test_json_rows.py compares the two on rows of every shape, on both databases.
"""

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, String, literal_column

from app.tasks.schemas import PRIORITIES


def _priority(column: str) -> str:
    ranks = " ".join(f"WHEN {rank} THEN '{name}'" for rank, name in enumerate(PRIORITIES))
    return f"CASE {column} {ranks} END"


# PostgreSQL: timestamptz in UTC as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (orjson leaves out a zero
# fraction, so does this); UUIDs, booleans and numbers as json_build_object writes them.
def _postgres_instant(column: str) -> str:
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE to_char({utc}, 'US')"
        f" WHEN '000000' THEN 'Z' ELSE '.' || to_char({utc}, 'US') || 'Z' END"
    )


def _postgres_date(column: str) -> str:
    # asyncpg stores the first and last dates Python has as -infinity and infinity (and reads
    # them back as those dates); to_char gives NULL for both.
    return (
        f"CASE WHEN isfinite({column}) THEN to_char({column}, 'YYYY-MM-DD')"
        f" WHEN {column} < '2000-01-01' THEN '0001-01-01'"
        f" WHEN {column} IS NOT NULL THEN '9999-12-31' END"
    )


_POSTGRES_VALUES: dict[str, Callable[[str], str]] = {
    "created_at": _postgres_instant,
    "updated_at": _postgres_instant,
    "completed_at": _postgres_instant,
    "due_at": _postgres_instant,
    "due_date": _postgres_date,
    "priority": _priority,
    "tags": lambda column: f"{column}::json",
    # JSON text columns, written by orjson: ::json keeps the text as it is
    "recurrence": lambda column: f"{column}::json",
    "reminders": lambda column: f"{column}::json",
    "etag": lambda _: "'\"' || tasks.version || '\"'",
}


# SQLite: timestamps are stored as "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC), UUIDs as 32 hex
# digits, booleans as 0/1, the tags as JSON text.
def _sqlite_instant(column: str) -> str:
    # A zero fraction is left out, as orjson does; no date or time part can hold ".000000".
    return f"replace(replace({column}, ' ', 'T'), '.000000', '') || 'Z'"


def _sqlite_uuid(column: str) -> str:
    parts = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    return " || '-' || ".join(f"substr({column}, {start}, {length})" for start, length in parts)


_SQLITE_VALUES: dict[str, Callable[[str], str]] = {
    "id": _sqlite_uuid,
    "parent_id": _sqlite_uuid,
    "list_id": _sqlite_uuid,
    "is_completed": lambda column: f"json(CASE WHEN {column} THEN 'true' ELSE 'false' END)",
    "created_at": _sqlite_instant,
    "updated_at": _sqlite_instant,
    "completed_at": _sqlite_instant,
    "due_at": _sqlite_instant,
    "priority": _priority,
    "tags": lambda column: f"json({column})",
    "recurrence": lambda column: f"json({column})",
    "reminders": lambda column: f"json({column})",
    "etag": lambda _: "'\"' || tasks.version || '\"'",
}


def _values(keys: Sequence[str], values: dict[str, Callable[[str], str]]) -> list[tuple[str, str]]:
    return [(key, values[key](f"tasks.{key}") if key in values else f"tasks.{key}") for key in keys]


def _postgres(keys: Sequence[str]) -> str:
    # row_to_json writes compact JSON (json_build_object puts spaces around every colon)
    fields = ", ".join(f'{value} AS "{key}"' for key, value in _values(keys, _POSTGRES_VALUES))
    return f"(SELECT row_to_json(j) FROM (SELECT {fields}) AS j)::text"


def _sqlite(keys: Sequence[str]) -> str:
    pairs = ", ".join(f"'{key}', {value}" for key, value in _values(keys, _SQLITE_VALUES))
    return f"json_object({pairs})"


def task_json(dialect: str, keys: Sequence[str]) -> ColumnElement[str]:
    """The row of `tasks` as the API's JSON object with these keys (columns of `tasks`, and
    `etag`), in the named dialect's SQL."""
    rendered = _postgres(keys) if dialect == "postgresql" else _sqlite(keys)
    return literal_column(rendered, String()).label("task_json")
