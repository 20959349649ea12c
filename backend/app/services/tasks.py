"""Task rules: ownership errors, timestamps, commits. Routes call these; these call queries."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ApiError, TaskForbidden, TaskNotFound
from app.models.task import Task
from app.repository import tasks as repository
from app.schemas.task import TaskCreate, TaskUpdate


async def list_tasks(
    session: AsyncSession, owner: str, *, limit: int, offset: int
) -> Sequence[Task]:
    return await repository.list_tasks(session, owner, limit=limit, offset=offset)


async def create_task(session: AsyncSession, owner: str, data: TaskCreate) -> Task:
    now = datetime.now(UTC)
    task = Task(**data.model_dump(), user_id=owner, created_at=now, updated_at=now)
    repository.add_task(session, task)
    await session.commit()
    return task


async def get_task(session: AsyncSession, owner: str, task_id: uuid.UUID) -> Task:
    task = await repository.get_task(session, owner, task_id)
    if task is None:
        raise await _why_not_owned(session, task_id)
    return task


async def update_task(
    session: AsyncSession, owner: str, task_id: uuid.UUID, data: TaskUpdate
) -> Task:
    task = await repository.update_task(session, owner, task_id, data.changes(), datetime.now(UTC))
    if task is None:
        raise await _why_not_owned(session, task_id)
    await session.commit()
    return task


async def delete_task(session: AsyncSession, owner: str, task_id: uuid.UUID) -> None:
    if not await repository.delete_task(session, owner, task_id):
        raise await _why_not_owned(session, task_id)
    await session.commit()


async def _why_not_owned(session: AsyncSession, task_id: uuid.UUID) -> ApiError:
    """The owner-scoped query found nothing: another user's task (403) or none at all (404)."""
    return TaskForbidden() if await repository.task_exists(session, task_id) else TaskNotFound()
