"""Task rules: ownership errors, timestamps, derived columns, the unit of work. Routes call
these; these call queries. Every write goes through `Database.write(owner)`: one statement (the
change counter included: app.sync.repository) committed when it succeeds, or a transaction when
tags are written too. Either way the commit happens before the function returns, so before any
response is sent."""

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.config import Settings
from app.db.database import Database
from app.errors import ApiError, InvalidCursor, InvalidListId, TaskQuotaExceeded
from app.kit.etags import Precondition, etag_of
from app.kit.keys import due_keys, fold
from app.kit.pagination import Page, PageParams
from app.kit.positions import append_key
from app.tasks import family, list_rows, moves, recurring, repository, tag_rows
from app.tasks import list_repository as task_list
from app.tasks.cursor import Position, decode_cursor, encode_cursor
from app.tasks.family import TreeLimits
from app.tasks.query import TaskFilter, TaskQuery
from app.tasks.repository import TaskRecord as TaskRecord  # the row shape other domains read
from app.tasks.schemas import PRIORITIES, TaskCreate, TaskMove, TaskUpdate

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TaskPage(Page[T]):
    next_cursor: str | None = None


async def list_tasks(
    database: Database,
    owner: str,
    page: PageParams,
    query: TaskQuery | None = None,
    cursor_key: bytes = b"",
) -> TaskPage[TaskRecord]:
    return await _list(database, owner, page, query, cursor_key, as_json=False)  # type: ignore[return-value]


async def list_tasks_json(
    database: Database,
    owner: str,
    page: PageParams,
    query: TaskQuery | None = None,
    cursor_key: bytes = b"",
) -> TaskPage[str]:
    """`list_tasks`, each task as its JSON text, written by the database (a list's hot path)."""
    return await _list(database, owner, page, query, cursor_key, as_json=True)  # type: ignore[return-value]


async def _list(
    database: Database,
    owner: str,
    page: PageParams,
    query: TaskQuery | None,
    cursor_key: bytes,
    *,
    as_json: bool,
) -> TaskPage[TaskRecord | str]:
    if query is None or (query.is_default and not query.uses_cursor):
        # The common case keeps its prebuilt statement: no filter, newest first, by offset.
        newest_first = repository.list_tasks_json if as_json else repository.list_tasks
        async with database.connect() as connection:
            rows = await newest_first(connection, owner, limit=page.limit + 1, offset=page.offset)
        return TaskPage(rows[: page.limit], len(rows) > page.limit)
    if not query.uses_cursor:
        return await _offset_page(database, owner, page, query, as_json)
    return await _cursor_page(database, owner, page, query, cursor_key, as_json)


async def _offset_page(
    database: Database, owner: str, page: PageParams, query: TaskQuery, as_json: bool
) -> TaskPage[TaskRecord | str]:
    async with database.connect() as connection:
        rows = await task_list.list_page(
            connection,
            owner,
            query,
            as_json=as_json,
            now=database.clock(),
            limit=page.limit + 1,
            offset=page.offset,
        )
    return TaskPage([task for task, _, _ in rows[: page.limit]], len(rows) > page.limit)


async def _cursor_page(
    database: Database,
    owner: str,
    page: PageParams,
    query: TaskQuery,
    cursor_key: bytes,
    as_json: bool,
) -> TaskPage[TaskRecord | str]:
    """A keyset page. The walk's start time travels in the cursor: it is the "now" of
    `overdue`, and rows written after it are left out of later pages, so a row an update moves
    past the walk's position is never met twice (an unchanged row is never skipped)."""
    fingerprint = query.fingerprint()
    after, started = None, database.clock()
    if query.cursor:
        position = decode_cursor(query.cursor, cursor_key, owner, fingerprint)
        try:
            after = task_list.After(query, position.key, position.id)
        except (TypeError, OverflowError):
            raise InvalidCursor() from None
        started = position.walk_started
    async with database.connect() as connection:
        rows = await task_list.list_page(
            connection,
            owner,
            query,
            as_json=as_json,
            now=started,
            limit=page.limit + 1,
            after=after,
            unchanged_since=started if after is not None else None,
        )
    if len(rows) <= page.limit:
        return TaskPage([task for task, _, _ in rows], False)
    _, last_id, key = rows[page.limit - 1]
    next_cursor = encode_cursor(Position(key, last_id, started), cursor_key, owner, fingerprint)
    return TaskPage([task for task, _, _ in rows[: page.limit]], True, next_cursor)


# Tasks one list may hold, for callers that do not say (a setting: MAX_TASKS_PER_LIST).
DEFAULT_MAX_TASKS_PER_LIST = 10_000


async def count_tasks(database: Database, owner: str, task_filter: TaskFilter) -> int:
    async with database.connect() as connection:
        return await task_list.count(connection, owner, task_filter, now=database.clock())


def tree_limits(settings: Settings) -> TreeLimits:
    """The limits of the task tree this server's settings set."""
    return TreeLimits(
        max_tasks=settings.max_tasks_per_user,
        max_depth=settings.max_task_depth,
        max_children=settings.max_subtasks_per_parent,
        max_key_length=settings.position_key_max_length,
        max_tasks_per_list=settings.max_tasks_per_list,
    )


async def create_task(
    database: Database, owner: str, data: TaskCreate, limits: TreeLimits
) -> TaskRecord:
    now = database.clock()
    if data.parent_id is not None:
        async with database.write(owner, several_statements=True) as connection:
            return await family.create_subtask(
                connection,
                owner,
                data.parent_id,
                data.list_id,
                not data.is_completed,
                now,
                limits,
                lambda list_id: insert_new_task(
                    connection,
                    owner,
                    data.model_copy(update={"list_id": list_id}),
                    now,
                    limits.max_tasks,
                    limits.max_tasks_per_list,
                ),
            )
    several = bool(data.tags) or data.list_id is not None or bool(data.reminders)
    async with database.write(owner, several_statements=several) as connection:
        return await insert_new_task(
            connection, owner, data, now, limits.max_tasks, limits.max_tasks_per_list
        )


async def insert_new_task(
    connection: AsyncConnection,
    owner: str,
    data: TaskCreate,
    now: datetime,
    max_tasks: int,
    max_tasks_per_list: int = DEFAULT_MAX_TASKS_PER_LIST,
) -> TaskRecord:
    """Stores the task `data` describes, and its tags, in the caller's unit of work; or
    TaskQuotaExceeded, having written nothing, when `owner` has `max_tasks` tasks already.
    It goes last among its siblings: its position key comes from the clock (app.kit.positions),
    so no query reads the siblings. Its parent, if any, is the caller's to check and update
    (app.tasks.family). A list that is not the owner's: InvalidListId; full: ListFull."""
    schedule = _schedule_of(data)
    task = TaskRecord(
        id=uuid.uuid4(),
        user_id=owner,
        title=data.title,
        description=data.description,
        is_completed=data.is_completed,
        created_at=now,
        updated_at=now,
        completed_at=now if data.is_completed else None,
        due_date=data.due_date,
        due_at=data.due_at,
        priority=data.priority,
        tags=data.tags,
        parent_id=data.parent_id,
        position=append_key(now),
        subtask_count=0,
        open_subtask_count=0,
        list_id=data.list_id,
        recurrence=schedule.get("recurrence"),
        reminders=schedule.get("reminders"),
        etag="",  # the database numbers the version
    )
    columns = _stored_columns(task)
    del columns["etag"]  # the database numbers the version
    if data.list_id is None:  # the common case: one statement, as before lists
        etag = await repository.insert_task(connection, columns, max_tasks)
    else:
        await list_rows.check_list(connection, owner, data.list_id)
        async with _list_deleted_meanwhile():
            etag = await repository.insert_task(connection, columns, max_tasks)
        if etag is not None:
            await list_rows.check_room(connection, owner, data.list_id, max_tasks_per_list)
    if etag is None:
        raise TaskQuotaExceeded()
    task["etag"] = etag
    if data.tags:
        await tag_rows.insert_tags(connection, owner, task["id"], data.tags)
    if task["reminders"]:
        await recurring.replan(connection, owner, task, now)
    return task


def _schedule_of(data: TaskCreate) -> dict[str, Any]:
    """The new task's recurrence and reminders, stored form; nothing to do without them."""
    if data.recurrence is None and not data.reminders:
        return {}
    written = data.model_dump(include={"due_date", "due_at", "recurrence", "reminders"})
    return recurring.checked_changes(None, written)


async def get_task_json(database: Database, owner: str, task_id: uuid.UUID) -> tuple[str, str]:
    """The task as the API's JSON text (written by the database) and its ETag."""
    async with database.connect() as connection:
        found = await repository.get_task_json(connection, owner, task_id)
        if found is None:
            raise await _why_not_owned(connection, task_id)
    text, version = found
    return text, etag_of(version)


async def update_task(
    database: Database,
    owner: str,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_match: Precondition | None = None,
    max_tasks_per_list: int = DEFAULT_MAX_TASKS_PER_LIST,
) -> TaskRecord:
    """With `if_match`, the version check is part of the UPDATE: a stale one writes nothing.
    A change of `is_completed` or `list_id` is one statement for a task without parent and
    children; for the others (and to tell why nothing was written) app.tasks.family runs the
    rules (a subtree follows its task's completion and list)."""
    changes = _stored_columns(data.changes())
    if recurring.SCHEDULE_FIELDS & changes.keys():
        return await _update_scheduled(
            database, owner, task_id, changes, if_match, max_tasks_per_list
        )
    tags: list[str] | None = changes.get("tags")
    to_list: uuid.UUID | None = changes.get("list_id")
    leaf_only = "is_completed" in changes or "list_id" in changes
    several = tags is not None or to_list is not None
    async with database.write(owner, several_statements=several) as connection:
        if to_list is not None:  # into a list: checked before, and its room after, in one unit
            await list_rows.check_list(connection, owner, to_list)
        async with _list_deleted_meanwhile():
            task = await repository.update_task(
                connection,
                owner,
                task_id,
                changes,
                database.clock(),
                _versions(if_match),
                leaf_only=leaf_only,
            )
        if task is not None:
            if tags is not None:
                await tag_rows.replace_tags(connection, owner, task_id, tags)
            if to_list is not None:
                await list_rows.check_room(connection, owner, to_list, max_tasks_per_list)
            return task
    async with database.write(owner, several_statements=True) as connection:
        if to_list is not None:
            await list_rows.check_list(connection, owner, to_list)
        async with _list_deleted_meanwhile():
            task = await _update_locked(
                connection, owner, task_id, changes, database.clock(), if_match
            )
        if to_list is not None:
            await list_rows.check_room(connection, owner, to_list, max_tasks_per_list)
        return task


async def _update_locked(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
    if_match: Precondition | None,
) -> TaskRecord:
    """The update under the owner's counter (app.tasks.family): a task with parent or
    children, a recurring one being completed, or one the one-statement update did not find."""
    current = await family.locked_current(connection, owner, task_id, if_match)
    if recurring.completes_occurrence(current, changes):
        return await recurring.move_on(connection, owner, current, changes, now, completed=True)
    return await family.apply_update(connection, owner, current, changes, now)


async def _update_scheduled(
    database: Database,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: Precondition | None,
    max_tasks_per_list: int,
) -> TaskRecord:
    """A write of the due, recurrence or reminders: checked against the task as it is under
    the lock, and the reminders re-planned in the same transaction."""
    to_list: uuid.UUID | None = changes.get("list_id")
    async with database.write(owner, several_statements=True) as connection:
        now = database.clock()
        if to_list is not None:
            await list_rows.check_list(connection, owner, to_list)
        current = await family.locked_current(connection, owner, task_id, if_match)
        changes = recurring.checked_changes(current, changes)
        if recurring.completes_occurrence(current, changes):
            return await recurring.move_on(connection, owner, current, changes, now, completed=True)
        async with _list_deleted_meanwhile():
            task = await family.apply_update(connection, owner, current, changes, now)
        if to_list is not None:
            await list_rows.check_room(connection, owner, to_list, max_tasks_per_list)
        if task["reminders"] or current["reminders"]:
            await recurring.replan(connection, owner, task, now)
    return task


async def delete_task(
    database: Database, owner: str, task_id: uuid.UUID, if_match: Precondition | None = None
) -> None:
    """One statement for a task without parent and children; app.tasks.family deletes a
    subtree and updates a parent's counts (and tells why nothing was deleted)."""
    versions = _versions(if_match)
    async with database.write(owner) as connection:
        now = database.clock()
        if await repository.delete_task(connection, owner, task_id, now, versions, leaf_only=True):
            return
    async with database.write(owner, several_statements=True) as connection:
        await family.delete_task(connection, owner, task_id, database.clock(), if_match)


async def move_task(
    database: Database,
    owner: str,
    task_id: uuid.UUID,
    move: TaskMove,
    limits: TreeLimits,
    if_match: Precondition | None = None,
) -> TaskRecord:
    async with database.write(owner, several_statements=True) as connection:
        return await moves.move_task(
            connection, owner, task_id, move, database.clock(), limits, if_match
        )


@asynccontextmanager
async def _list_deleted_meanwhile() -> AsyncIterator[None]:
    """The list was checked, then deleted before the write took the counter: the foreign key
    refuses the task, and the client hears what it would have heard a moment later."""
    try:
        yield
    except IntegrityError:
        raise InvalidListId() from None


async def move_list_tasks(
    connection: AsyncConnection, owner: str, from_list: uuid.UUID, to_list: uuid.UUID, now: datetime
) -> None:
    """For a list's deletion (app.lists), in its transaction: its tasks go to `to_list`."""
    await list_rows.move_all(connection, owner, from_list, to_list, now)


async def delete_list_tasks(
    connection: AsyncConnection, owner: str, list_id: uuid.UUID, now: datetime
) -> None:
    """For a list's deletion (app.lists), in its transaction: its tasks are deleted."""
    await list_rows.delete_all(connection, owner, list_id, now)


_versions = family.versions


def _stored_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns to write for these fields: the priority as its rank, and the derived keys
    (app.kit.keys) of whichever fields are present."""
    columns = dict(fields)
    if "title" in fields:
        columns["title_key"] = fold(fields["title"])
    if "description" in fields:
        columns["description_key"] = fold(fields["description"] or "")
    if "priority" in fields:
        columns["priority"] = PRIORITIES.index(fields["priority"])
    if "due_date" in fields or "due_at" in fields:
        # Either field sets the whole due: one kind replaces the other, null clears both.
        due_date, due_at = fields.get("due_date"), fields.get("due_at")
        if due_date is not None:
            due_at = None
        columns["due_date"], columns["due_at"] = due_date, due_at
        columns["due_key"], columns["due_key_desc"] = due_keys(due_date, due_at)
    return columns


async def _why_not_owned(connection: AsyncConnection, task_id: uuid.UUID) -> ApiError:
    return await family.why_not_owned(connection, task_id)


async def tasks_changed(
    connection: AsyncConnection, owner: str, since: int, until: int, limit: int
) -> list[tuple[int, TaskRecord]]:
    """For delta sync (app.sync): the owner's tasks whose last change is numbered in
    (since, until], oldest change first, each with that number."""
    return await repository.tasks_changed(connection, owner, since, until, limit)


async def tasks_by_ids(
    connection: AsyncConnection, owner: str, task_ids: list[uuid.UUID]
) -> dict[uuid.UUID, TaskRecord]:
    """For the changes feed (app.sync): these of the owner's tasks that exist, by id."""
    return {task["id"]: task for task in await repository.tasks_by_ids(connection, owner, task_ids)}
