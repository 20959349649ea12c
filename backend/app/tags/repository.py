"""Tag queries. Each one takes the owner and filters by it in SQL, as task queries do. (A
task's tag rows are written with the task: app.tasks.tag_rows.)"""

from typing import TypedDict

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.scope import owned_by
from app.models import metadata

TAGS = metadata.tables["task_tags"]


class TagCount(TypedDict):
    name: str
    count: int


# One row per folded name; of its spellings, the first in code-point order is shown.
_COUNTS = (
    select(func.min(TAGS.c.name), func.count())
    .where(owned_by(TAGS))
    .group_by(TAGS.c.name_key)
    .order_by(TAGS.c.name_key)
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)


async def count_tags(
    connection: AsyncConnection, owner: str, *, limit: int, offset: int
) -> list[TagCount]:
    rows = await connection.execute(_COUNTS, {"owner": owner, "limit": limit, "offset": offset})
    return [{"name": name, "count": count} for name, count in rows]
