"""The per-user task quota, checked so that two creates racing for the last place cannot both
take it."""

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import metadata

USER_SYNC = metadata.tables["user_sync"]
TASKS = metadata.tables["tasks"]

_OWNER = bindparam("owner", type_=String())
# Locks the owner's change counter row (creating it at seq 0 if the owner has none): the row
# every write of the owner locks first anyway (app.repository.sync), so this adds no new lock
# order. On SQLite the statement takes the database's write lock, which serialises the same way.
_LOCK_OWNER = {
    name: dialect.insert(USER_SYNC)
    .values(user_id=_OWNER, seq=0, purged_seq=0)
    .on_conflict_do_update(index_elements=[USER_SYNC.c.user_id], set_={"seq": USER_SYNC.c.seq})
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
# Stops counting at the quota: a user far below it pays for the tasks they have, no more.
_COUNT_UP_TO_QUOTA = select(func.count()).select_from(
    select(TASKS.c.id).where(TASKS.c.user_id == _OWNER).limit(bindparam("quota")).subquery()
)


async def has_room_for_a_task(connection: AsyncConnection, owner: str, max_tasks: int) -> bool:
    """Whether `owner` has fewer than `max_tasks` tasks. Call it in the transaction that then
    inserts the task: the owner's other creates wait until that transaction ends, and the count
    (a new statement, so a new snapshot) sees every task they committed."""
    await connection.execute(_LOCK_OWNER[connection.dialect.name], {"owner": owner})
    count = await connection.scalar(_COUNT_UP_TO_QUOTA, {"owner": owner, "quota": max_tasks})
    return int(count or 0) < max_tasks
