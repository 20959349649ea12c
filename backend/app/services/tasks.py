"""Task rules: ownership errors, timestamps, the unit of work. Routes call these; these call
queries. Each write here is one statement (the change counter included: app.repository.sync),
committed when it succeeds (`Database.write`); a write of several statements must ask
`write` for a transaction. Either way the commit happens before the function returns, so
before any response is sent."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.database import Database
from app.errors import ApiError, PreconditionFailed, TaskForbidden, TaskNotFound
from app.pagination import Page, PageParams
from app.repository import tasks as repository
from app.repository.tasks import TaskRecord
from app.schemas.task import TaskCreate, TaskUpdate
from app.sync.etags import Precondition


async def list_tasks(database: Database, owner: str, page: PageParams) -> Page[TaskRecord]:
    async with database.connect() as connection:
        rows = await repository.list_tasks(
            connection, owner, limit=page.limit + 1, offset=page.offset
        )
    return Page.from_overfetch(rows, page)


async def create_task(database: Database, owner: str, data: TaskCreate) -> TaskRecord:
    async with database.write(owner) as connection:
        return await repository.insert_task(connection, new_task(owner, data))


def new_task(owner: str, data: TaskCreate) -> TaskRecord:
    now = datetime.now(UTC)
    return TaskRecord(
        id=uuid.uuid4(),
        user_id=owner,
        title=data.title,
        description=data.description,
        is_completed=data.is_completed,
        created_at=now,
        updated_at=now,
        etag="",  # the database numbers the version
    )


async def get_task(database: Database, owner: str, task_id: uuid.UUID) -> TaskRecord:
    async with database.connect() as connection:
        task = await repository.get_task(connection, owner, task_id)
        if task is None:
            raise await _why_not_owned(connection, task_id)
    return task


async def update_task(
    database: Database,
    owner: str,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_match: Precondition | None = None,
) -> TaskRecord:
    """With `if_match`, the version check is part of the UPDATE: a stale one writes nothing."""
    async with database.write(owner) as connection:
        task = await repository.update_task(
            connection, owner, task_id, data.changes(), datetime.now(UTC), _versions(if_match)
        )
        if task is None:
            raise await _why_not_written(connection, owner, task_id)
    return task


async def delete_task(
    database: Database, owner: str, task_id: uuid.UUID, if_match: Precondition | None = None
) -> None:
    async with database.write(owner) as connection:
        now = datetime.now(UTC)
        if not await repository.delete_task(connection, owner, task_id, now, _versions(if_match)):
            raise await _why_not_written(connection, owner, task_id)


def _versions(if_match: Precondition | None) -> list[int] | None:
    """The versions a write must find, or None for no check (`If-Match: *` only needs the
    task to exist, which every write checks anyway)."""
    return None if if_match is None or if_match.any else if_match.versions


async def _why_not_written(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> ApiError:
    """The guarded write found nothing: a stale If-Match (412 with the current ETag), or no
    task of the caller's (403 / 404)."""
    current = await repository.get_task(connection, owner, task_id)
    return (
        PreconditionFailed(current["etag"])
        if current
        else await _why_not_owned(connection, task_id)
    )


async def _why_not_owned(connection: AsyncConnection, task_id: uuid.UUID) -> ApiError:
    """The owner-scoped query found nothing: another user's task (403) or none at all (404)."""
    return TaskForbidden() if await repository.task_exists(connection, task_id) else TaskNotFound()
