"""Every tasks query. Each one takes the owner and filters by it in SQL.

The single exception is `task_exists`, which answers only "is there such an id at all?" so
the API can tell 403 from 404; it returns a boolean and never loads another user's row.

Queries are SQLAlchemy Core on the `Task` table and return plain `TaskRecord` dicts: rows go to
JSON without building ORM objects first.
"""

import uuid
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Row, Select, case, delete, exists, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import metadata
from app.models.base import UTCDateTime, greatest

# The table's columns, typed (the model's attributes are typed as Python values instead).
TASKS = metadata.tables["tasks"]
ID, USER_ID, CREATED_AT, UPDATED_AT = (
    TASKS.c.id,
    TASKS.c.user_id,
    TASKS.c.created_at,
    TASKS.c.updated_at,
)


class TaskRecord(TypedDict):
    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    is_completed: bool
    created_at: datetime
    updated_at: datetime


_KEYS = tuple(TaskRecord.__annotations__)
COLUMNS = tuple(TASKS.c[key] for key in _KEYS)


def _record(row: Row[Any]) -> TaskRecord:
    return cast(TaskRecord, dict(zip(_KEYS, row, strict=True)))


def owned_tasks(owner: str) -> Select[Any]:
    return select(*COLUMNS).where(USER_ID == owner)


async def list_tasks(
    connection: AsyncConnection, owner: str, *, limit: int, offset: int
) -> list[TaskRecord]:
    statement = (
        owned_tasks(owner).order_by(CREATED_AT.desc(), ID.desc()).limit(limit).offset(offset)
    )
    return [_record(row) for row in await connection.execute(statement)]


async def get_task(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID
) -> TaskRecord | None:
    row = (await connection.execute(owned_tasks(owner).where(ID == task_id))).first()
    return None if row is None else _record(row)


async def insert_task(connection: AsyncConnection, task: TaskRecord) -> None:
    await connection.execute(insert(TASKS).values(**task))


async def update_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
) -> TaskRecord | None:
    """One UPDATE that sets only the given columns, so concurrent updates of different
    fields never overwrite each other; `updated_at` moves only if a value really differs."""
    columns = {column.key: column for column in COLUMNS}
    really_changed = or_(
        *(columns[name].is_distinct_from(value) for name, value in changes.items())
    )
    statement = (
        update(TASKS)
        .where(ID == task_id, USER_ID == owner)
        .values(
            **changes,
            # Never backwards: a writer that took `now` before waiting for the row lock may
            # commit after one that took a later `now`.
            updated_at=case(
                (really_changed, greatest(UPDATED_AT, literal(now, UTCDateTime()))),
                else_=UPDATED_AT,
            ),
        )
        .returning(*COLUMNS)
    )
    row = (await connection.execute(statement)).first()
    return None if row is None else _record(row)


async def delete_task(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> bool:
    statement = delete(TASKS).where(ID == task_id, USER_ID == owner).returning(ID)
    return (await connection.execute(statement)).first() is not None


async def task_exists(connection: AsyncConnection, task_id: uuid.UUID) -> bool:
    return bool(await connection.scalar(select(exists().where(ID == task_id))))
