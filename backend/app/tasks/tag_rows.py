"""A task's tag rows (`task_tags`), written in the task's unit of work: the tags domain only
reads them (app.tags)."""

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import owned_by
from app.kit.keys import fold
from app.models import metadata

TAGS = metadata.tables["task_tags"]
_INSERT = insert(TAGS)
_DELETE = delete(TAGS).where(TAGS.c.task_id == bindparam("task_id"), owned_by(TAGS))


async def insert_tags(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID, names: Sequence[str]
) -> None:
    if names:
        rows = [
            {"task_id": task_id, "user_id": owner, "name": name, "name_key": fold(name)}
            for name in names
        ]
        await connection.execute(_INSERT, rows)


async def replace_tags(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID, names: Sequence[str]
) -> None:
    await connection.execute(_DELETE, {"task_id": task_id, "owner": owner})
    await insert_tags(connection, owner, task_id, names)
