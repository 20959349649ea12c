"""The per-user task quota, checked so that two creates racing for the last place cannot both
take it, at the same cost however many tasks the user has."""

from sqlalchemy import String, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import metadata

USER_SYNC = metadata.tables["user_sync"]

_OWNER = bindparam("owner", type_=String())
# Locks the owner's change counter row (creating it if the owner has none) and reads the task
# count that triggers keep on it (see the migration 0004). Every write of the owner locks this
# row first anyway (app.repository.sync), so this adds no new lock order. On SQLite the
# statement takes the database's write lock, which serialises the same way.
_LOCK_AND_COUNT = {
    name: dialect.insert(USER_SYNC)
    .values(user_id=_OWNER, seq=0, purged_seq=0)
    .on_conflict_do_update(index_elements=[USER_SYNC.c.user_id], set_={"seq": USER_SYNC.c.seq})
    .returning(USER_SYNC.c.task_count)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def has_room_for_a_task(connection: AsyncConnection, owner: str, max_tasks: int) -> bool:
    """Whether `owner` has fewer than `max_tasks` tasks. Call it in the transaction that then
    inserts the task: the owner's other creates wait for that transaction's end, then read a
    count that includes its task."""
    statement = _LOCK_AND_COUNT[connection.dialect.name]
    count = await connection.scalar(statement, {"owner": owner})
    return int(count or 0) < max_tasks
