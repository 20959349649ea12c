"""Tag queries. Each one takes the owner and filters by it in SQL, as task queries do."""

import uuid
from collections.abc import Sequence
from typing import TypedDict

from sqlalchemy import Integer, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.keys import fold
from app.models import metadata

TAGS = metadata.tables["task_tags"]


class TagCount(TypedDict):
    name: str
    count: int


_INSERT = insert(TAGS)
_DELETE = delete(TAGS).where(
    TAGS.c.task_id == bindparam("task_id"), TAGS.c.user_id == bindparam("owner")
)
# One row per folded name; of its spellings, the first in code-point order is shown.
_COUNTS = (
    select(func.min(TAGS.c.name), func.count())
    .where(TAGS.c.user_id == bindparam("owner"))
    .group_by(TAGS.c.name_key)
    .order_by(TAGS.c.name_key)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)


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


async def count_tags(
    connection: AsyncConnection, owner: str, *, limit: int, offset: int
) -> list[TagCount]:
    rows = await connection.execute(_COUNTS, {"owner": owner, "limit": limit, "offset": offset})
    return [{"name": name, "count": count} for name, count in rows]
