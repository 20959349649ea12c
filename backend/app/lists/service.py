"""List rules: ownership (403 against 404), If-Match, quotas, the place of a list among the
caller's lists, and what happens to a deleted list's tasks.

Every write is one transaction that first takes the caller's change counter
(`take_counter_lock`), so the counts and neighbours it reads are exact (every earlier write of
the caller is committed, none can start meanwhile), and each changed list or task gets its own
change number and event.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.db.sequenced import take_counter_lock, take_seqs
from app.errors import (
    ApiError,
    InvalidListId,
    ListForbidden,
    ListFull,
    ListNotEmpty,
    ListNotFound,
    ListPreconditionFailed,
    ListQuotaExceeded,
    ValidationFailed,
)
from app.kit.etags import Precondition, etag_of
from app.kit.pagination import Page, PageParams
from app.kit.positions import PositionKeyTooLong, key_between, spread
from app.lists import repository
from app.lists.repository import ListRecord as ListRecord
from app.lists.schemas import ListCreate, ListMove, ListUpdate
from app.tasks import service as task_service

# A list's key past this length: every list gets a fresh key (see `move_list`), never a 409.
POSITION_MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Gap:
    """Where a list goes: strictly after `low`, strictly before `high` (None: the start or
    the end of the caller's lists)."""

    low: str | None
    high: str | None

    def holds(self, position: str) -> bool:
        """A list at `position` is already in this gap: moving it there changes nothing."""
        above = self.low is None or self.low < position
        return above and (self.high is None or position < self.high)


async def list_lists(database: Database, owner: str, page: PageParams) -> Page[ListRecord]:
    async with database.connect() as connection:
        rows = await repository.list_lists(
            connection, owner, limit=page.limit + 1, offset=page.offset
        )
    return Page.from_overfetch(rows, page)


async def get_list(database: Database, owner: str, list_id: uuid.UUID) -> ListRecord:
    async with database.connect() as connection:
        return await _owned(connection, owner, list_id)


async def create_list(
    database: Database, owner: str, data: ListCreate, max_lists: int
) -> ListRecord:
    """New lists go last."""
    async with database.write(owner, several_statements=True) as connection:
        await take_counter_lock(connection, owner)
        if await repository.count_lists(connection, owner) >= max_lists:
            raise ListQuotaExceeded()
        last = await repository.neighbour(connection, owner, None, side="last")
        now = database.clock()
        new = ListRecord(
            id=uuid.uuid4(),
            name=data.name,
            color=data.color,
            position=key_between(last, None, POSITION_MAX_LENGTH),
            archived=data.archived,
            created_at=now,
            updated_at=now,
            task_count=0,
            open_task_count=0,
            etag="",
        )
        version = await take_seqs(connection, owner, 1)
        new["etag"] = etag_of(version)
        await repository.insert_list(connection, owner, new, version)
    return new


async def update_list(
    database: Database,
    owner: str,
    list_id: uuid.UUID,
    data: ListUpdate,
    if_match: Precondition | None,
) -> ListRecord:
    async with database.write(owner, several_statements=True) as connection:
        await take_counter_lock(connection, owner)
        current = await _owned(connection, owner, list_id, if_match)
        changes = {k: v for k, v in data.changes().items() if current[k] != v}  # type: ignore[literal-required]
        if not changes:
            return current  # nothing really changes: same version, no event
        version = await take_seqs(connection, owner, 1)
        return await repository.update_list(
            connection, owner, current, changes, database.clock(), version
        )


async def move_list(
    database: Database,
    owner: str,
    list_id: uuid.UUID,
    to: ListMove,
    if_match: Precondition | None,
) -> ListRecord:
    """One row written (its position), unless the keys around the target grew too long: then
    every list gets a fresh key, once in a long while."""
    async with database.write(owner, several_statements=True) as connection:
        await take_counter_lock(connection, owner)
        current = await _owned(connection, owner, list_id, if_match)
        gap = await _gap(connection, owner, list_id, to)
        if gap.holds(current["position"]):
            return current  # already there
        now = database.clock()
        try:
            key = key_between(gap.low, gap.high, POSITION_MAX_LENGTH)
        except PositionKeyTooLong:
            return await _respread(connection, owner, current, gap, now)
        version = await take_seqs(connection, owner, 1)
        changes = {"position": key}
        return await repository.update_list(connection, owner, current, changes, now, version)


async def _gap(connection: AsyncConnection, owner: str, moving: uuid.UUID, to: ListMove) -> Gap:
    next_to = to.before or to.after
    if next_to is None:
        if to.place == "first":
            return Gap(None, await repository.neighbour(connection, owner, moving, side="first"))
        return Gap(await repository.neighbour(connection, owner, moving, side="last"), None)
    if next_to == moving:
        raise ValidationFailed("body: a list cannot be moved next to itself")
    sibling = await repository.get_list(connection, owner, next_to)
    if sibling is None:
        raise InvalidListId()
    key = sibling["position"]
    if to.before:
        return Gap(
            await repository.neighbour(connection, owner, moving, side="before", key=key), key
        )
    return Gap(key, await repository.neighbour(connection, owner, moving, side="after", key=key))


async def _respread(
    connection: AsyncConnection, owner: str, moving: ListRecord, gap: Gap, now: datetime
) -> ListRecord:
    others = await repository.order_without(connection, owner, moving["id"])
    lists = [await _owned(connection, owner, list_id) for list_id in others]
    place = sum(1 for list_ in lists if gap.low is not None and list_["position"] <= gap.low)
    order = [*lists[:place], moving, *lists[place:]]
    first = await take_seqs(connection, owner, len(order))
    written = await repository.respread(connection, owner, order, spread(len(order)), now, first)
    return written[place]


@dataclass(frozen=True, slots=True)
class TasksGo:
    """What a list's deletion does to its tasks: nothing (refused if it has any), delete them,
    or move them to another list."""

    delete: bool = False
    move_to: uuid.UUID | None = None


async def delete_list(
    database: Database,
    owner: str,
    list_id: uuid.UUID,
    tasks: TasksGo,
    if_match: Precondition | None,
    max_tasks_per_list: int,
) -> None:
    async with database.write(owner, several_statements=True) as connection:
        await take_counter_lock(connection, owner)
        current = await _owned(connection, owner, list_id, if_match)
        target = None
        if tasks.move_to is not None:
            if tasks.move_to == list_id:
                raise ValidationFailed("query.move_to: must be another list than the one deleted")
            target = await repository.get_list(connection, owner, tasks.move_to)
            if target is None:
                raise InvalidListId()
        now = database.clock()
        if current["task_count"]:
            if target is not None:
                if target["task_count"] + current["task_count"] > max_tasks_per_list:
                    raise ListFull()
                await task_service.move_list_tasks(connection, owner, list_id, target["id"], now)
            elif tasks.delete:
                await task_service.delete_list_tasks(connection, owner, list_id, now)
            else:
                raise ListNotEmpty()
        version = await take_seqs(connection, owner, 1)
        await repository.delete_list(connection, owner, list_id, now, version)


async def _owned(
    connection: AsyncConnection,
    owner: str,
    list_id: uuid.UUID,
    if_match: Precondition | None = None,
) -> ListRecord:
    """The caller's list, or 403 / 404; with `if_match`, 412 unless it names its version."""
    current = await repository.get_list(connection, owner, list_id)
    if current is None:
        raise await _why_not_owned(connection, list_id)
    if if_match is not None and not if_match.matches(current["etag"]):
        raise ListPreconditionFailed(current["etag"], weak_only=if_match.weak_only)
    return current


async def _why_not_owned(connection: AsyncConnection, list_id: uuid.UUID) -> ApiError:
    return ListForbidden() if await repository.list_exists(connection, list_id) else ListNotFound()


async def lists_changed(
    connection: AsyncConnection, owner: str, since: int, until: int, limit: int
) -> list[tuple[int, ListRecord]]:
    """For delta sync (app.sync): the owner's lists whose last change is numbered in
    (since, until], oldest change first, each with that number."""
    return await repository.lists_changed(connection, owner, since, until, limit)
