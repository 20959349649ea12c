"""Delta sync: the caller's changes after a token, in the order they were made.

A user's writes commit in seq order (app.sync.repository), so reading the counter first gives
M such that every change numbered up to M is committed; the changes then read are cut at M and
the new token is M (or, when a page is full, the seq of the page's last change). A change that
commits meanwhile has a seq above M, so it comes with the next token: never skipped, never
repeated out of order."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.errors import SyncTokenExpired
from app.lists import service as list_service
from app.lists.service import ListRecord
from app.sync import repository as sync_repository
from app.tasks import service as task_service
from app.tasks.service import TaskRecord

# Rows written before sync existed have version 0; a first sync must include them.
_BEFORE_EVERYTHING = -1


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    task: TaskRecord | None  # None: deleted (or a list's change)
    task_id: uuid.UUID  # the entity's id, whatever its type
    entity_type: str = "task"  # or "list"
    list: ListRecord | None = None  # a list as it is now; None: deleted (or a task's change)
    # A fired reminder (app.reminders), with `task` as it is now: not a change of the task.
    reminder: dict[str, Any] | None = None

    @property
    def deleted(self) -> bool:
        return self.task is None and self.list is None

    @property
    def changed_task(self) -> TaskRecord | None:
        """The task this change created or updated (not a fired reminder's)."""
        return self.task if self.reminder is None else None


@dataclass(frozen=True, slots=True)
class Changes:
    changes: list[Change]
    seq: int  # the new token's seq
    has_more: bool


async def changes_since(
    database: Database, owner: str, since: int | None, limit: int, *, with_lists: bool = False
) -> Changes:
    """Without `since`: every task (and list) (no tombstones, the client starts empty).
    `with_lists`: lists and their deletions too (`/api/changes`, `/api/events`); without it,
    tasks only, exactly as before lists existed."""
    async with database.connect() as connection:
        return await read_changes(connection, owner, since, limit, with_lists=with_lists)


async def read_changes(
    connection: AsyncConnection,
    owner: str,
    since: int | None,
    limit: int,
    *,
    with_lists: bool = False,
) -> Changes:
    state = await sync_repository.sync_state(connection, owner)
    if since is not None:
        _check_token(state, since)
    start = _BEFORE_EVERYTHING if since is None else since
    tasks = await task_service.tasks_changed(connection, owner, start, state.seq, limit + 1)
    changes = [Change(seq, task, task["id"]) for seq, task in tasks]
    if with_lists:
        lists = await list_service.lists_changed(connection, owner, start, state.seq, limit + 1)
        changes += [Change(seq, None, list_["id"], "list", list_) for seq, list_ in lists]
    if since is not None:
        tombstones, fired = await sync_repository.tombstones_since(
            connection,
            owner,
            since,
            state.seq,
            limit + 1,
            ("task", "list") if with_lists else ("task",),
        )
        changes += [Change(seq, None, id_, kind) for seq, id_, kind in tombstones]
        changes += await _with_tasks(connection, owner, fired)
    if with_lists or since is not None:
        changes.sort(key=lambda change: change.seq)
    if len(changes) > limit:
        return Changes(changes[:limit], changes[limit - 1].seq, has_more=True)
    return Changes(changes, state.seq, has_more=False)


async def _with_tasks(
    connection: AsyncConnection, owner: str, fired: list[sync_repository.FiredReminder]
) -> list[Change]:
    """Fired reminders, each with its task as it is now (one gone since is left out: its
    tombstone follows). A query only when some reminder fired."""
    if not fired:
        return []
    ids = list({one.task_id for one in fired})
    tasks = await task_service.tasks_by_ids(connection, owner, ids)
    return [
        Change(one.seq, tasks[one.task_id], one.task_id, reminder=one.reminder)
        for one in fired
        if one.task_id in tasks
    ]


async def stream_start(database: Database, owner: str, since: int | None) -> int:
    """Where an event stream starts: after `since` (410 if that cannot be served), or now."""
    async with database.connect() as connection:
        state = await sync_repository.sync_state(connection, owner)
    if since is None:
        return state.seq
    _check_token(state, since)
    return since


def _check_token(state: sync_repository.SyncState, since: int) -> None:
    if not state.purged_seq <= since <= state.seq:
        # Tombstones after `since` may be gone (or the token is from another database).
        raise SyncTokenExpired()
