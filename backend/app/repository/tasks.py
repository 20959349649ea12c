"""Every tasks query. Each one takes the owner and filters by it in SQL.

The single exception is `task_exists`, which answers only "is there such an id at all?" so
the API can tell 403 from 404; it returns a boolean and never loads another user's row.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, delete, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import UTCDateTime, greatest
from app.models.task import Task


def owned_tasks(owner: str) -> Select[Task]:
    return select(Task).where(Task.user_id == owner)  # type: ignore[arg-type]


async def list_tasks(
    session: AsyncSession, owner: str, *, limit: int, offset: int
) -> Sequence[Task]:
    statement = (
        owned_tasks(owner)
        .order_by(Task.created_at.desc(), Task.id.desc())  # type: ignore[attr-defined]
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(statement)).all()


async def get_task(session: AsyncSession, owner: str, task_id: uuid.UUID) -> Task | None:
    statement = owned_tasks(owner).where(Task.id == task_id)  # type: ignore[arg-type]
    return (await session.scalars(statement)).one_or_none()


def add_task(session: AsyncSession, task: Task) -> None:
    session.add(task)


async def update_task(
    session: AsyncSession,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
) -> Task | None:
    """One UPDATE that sets only the given columns, so concurrent updates of different
    fields never overwrite each other; `updated_at` moves only if a value really differs."""
    columns = Task.__table__.c  # type: ignore[attr-defined]
    really_changed = or_(
        *(columns[name].is_distinct_from(value) for name, value in changes.items())
    )
    statement = (
        update(Task)
        .where(columns.id == task_id, columns.user_id == owner)
        .values(
            **changes,
            # Never backwards: a writer that took `now` before waiting for the row lock may
            # commit after one that took a later `now`.
            updated_at=case(
                (really_changed, greatest(columns.updated_at, literal(now, UTCDateTime()))),
                else_=columns.updated_at,
            ),
        )
        .returning(Task)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def delete_task(session: AsyncSession, owner: str, task_id: uuid.UUID) -> bool:
    columns = Task.__table__.c  # type: ignore[attr-defined]
    statement = (
        delete(Task).where(columns.id == task_id, columns.user_id == owner).returning(columns.id)
    )
    return (await session.execute(statement)).first() is not None


async def task_exists(session: AsyncSession, task_id: uuid.UUID) -> bool:
    statement = select(exists().where(Task.__table__.c.id == task_id))  # type: ignore[attr-defined]
    return bool(await session.scalar(statement))
