"""The rules of subtasks, in the caller's transaction (which this module locks first: see
`take_counter_lock`), each changed row written once and numbered, so each gets its own event:

- a parent is a task of the same owner, never the task itself nor one of its descendants, at
  most MAX_TASK_DEPTH levels deep, with at most MAX_SUBTASKS_PER_PARENT children;
- completing a task completes its open descendants (deepest first, each its own
  `completed_at`); completing every subtask does not complete the parent;
- reopening a task reopens its completed ancestors; so does giving a completed task an open
  subtask (created or moved there): a completed task never has an open descendant;
- deleting a task deletes its subtree (deepest first, a tombstone each);
- a subtask is in its parent's list: created under a parent it takes the parent's list (a
  `list_id` that differs is a 400), and a task that changes list carries its subtree with it,
  each descendant written (and evented) on its own;
- moving a task moves its subtree (the children keep pointing at it: app.tasks.moves);
- `subtask_count` / `open_subtask_count` of a parent are recounted from its children (an
  index range) in the same statement that writes the parent, whenever a child comes, goes,
  opens or completes; a parent whose counts change gets a new version and an event.

The plain write of a task with no parent and no children never comes here (app.tasks.service
writes it in one statement); a write that found nothing comes here to learn why.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.sequenced import take_counter_lock
from app.errors import (
    ApiError,
    DepthLimitExceeded,
    ParentNotFound,
    PreconditionFailed,
    SubtaskLimitReached,
    SubtaskListMismatch,
    TaskForbidden,
    TaskNotFound,
)
from app.kit.etags import Precondition
from app.tasks import repository, tag_rows, tree_repository
from app.tasks.repository import TaskRecord
from app.tasks.tree_repository import Node


@dataclass(frozen=True, slots=True)
class TreeLimits:
    max_tasks: int
    max_depth: int = 4
    max_children: int = 500
    max_key_length: int = 128
    max_tasks_per_list: int = 10_000  # MAX_TASKS_PER_LIST: tasks one list may hold


def versions(if_match: Precondition | None) -> list[int] | None:
    """The versions a write must find, or None for no check (`If-Match: *` only needs the
    task to exist, which every write checks anyway)."""
    return None if if_match is None or if_match.any else if_match.versions


async def why_not_owned(connection: AsyncConnection, task_id: uuid.UUID) -> ApiError:
    """The owner-scoped query found nothing: another user's task (403) or none at all (404)."""
    exists = await repository.task_exists(connection, task_id)
    return TaskForbidden() if exists else TaskNotFound()


async def current_task(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID, if_match: Precondition | None
) -> TaskRecord:
    """The task as it is under the lock, or why it cannot be written: 403/404, or 412 (with
    the current ETag) for a stale If-Match."""
    current = await repository.get_task(connection, owner, task_id)
    if current is None:
        raise await why_not_owned(connection, task_id)
    wanted = versions(if_match)
    if wanted is not None and int(current["etag"].strip('"')) not in wanted:
        weak_only = if_match is not None and if_match.weak_only
        raise PreconditionFailed(current["etag"], weak_only=weak_only)
    return current


async def write_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
) -> TaskRecord:
    """Writes one row under the lock, its counts recounted; a new version only if something
    really changed."""
    task = await repository.update_task(connection, owner, task_id, changes, now, recount=True)
    assert task is not None, "read under the same lock"
    return task


async def parent_changed(
    connection: AsyncConnection,
    owner: str,
    parent_id: uuid.UUID | None,
    now: datetime,
    *,
    reopen: bool,
) -> None:
    """A child of `parent_id` came, went, opened or completed: recount the parent, and with
    `reopen` (an open child) reopen it if completed, and so on up while parents reopen."""
    chain = (
        [] if parent_id is None else await tree_repository.ancestors(connection, owner, parent_id)
    )
    for ancestor in chain:
        reopens = reopen and ancestor.is_completed
        await write_task(
            connection, owner, ancestor.id, {"is_completed": False} if reopens else {}, now
        )
        if not reopens:
            return


def check_tree_room(chain: list[Node], height: int, limits: TreeLimits, new_child: bool) -> None:
    """`chain`: the new parent and its ancestors; `height`: levels of the task placed there."""
    if not chain:
        raise ParentNotFound()
    if len(chain) + height > limits.max_depth:
        raise DepthLimitExceeded(
            f"Subtasks nest at most {limits.max_depth} levels deep: under this parent (level "
            f"{len(chain)}) the task would reach level {len(chain) + height}"
        )
    if new_child and chain[0].subtask_count >= limits.max_children:
        raise SubtaskLimitReached(
            f"A task has at most {limits.max_children} subtasks, and this one has them all"
        )


async def create_subtask(
    connection: AsyncConnection,
    owner: str,
    parent_id: uuid.UUID,
    list_id: uuid.UUID | None,
    is_open: bool,
    now: datetime,
    limits: TreeLimits,
    insert: Callable[[uuid.UUID | None], Awaitable[TaskRecord]],
) -> TaskRecord:
    """Checks the parent, `insert`s the task into the parent's list (last among its siblings;
    `list_id`, if given, must be that list), updates the parent."""
    await take_counter_lock(connection, owner)
    chain = await tree_repository.ancestors(connection, owner, parent_id)
    check_tree_room(chain, 1, limits, new_child=True)
    if list_id is not None and list_id != chain[0].list_id:
        raise SubtaskListMismatch()
    task = await insert(chain[0].list_id)
    await parent_changed(connection, owner, parent_id, now, reopen=is_open)
    return task


async def carry_subtree(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    list_id: uuid.UUID | None,
    now: datetime,
) -> None:
    """The task went to `list_id`: its descendants follow, each its own version and event."""
    for node in await tree_repository.subtree(connection, owner, task_id):
        if node.list_id != list_id:
            await write_task(connection, owner, node.id, {"list_id": list_id}, now)


async def _check_list_change(
    connection: AsyncConnection, owner: str, current: TaskRecord, list_id: uuid.UUID | None
) -> None:
    """A subtask may only "change" to its parent's list: it moves with its parent."""
    if current["parent_id"] is None:
        return
    chain = await tree_repository.ancestors(connection, owner, current["parent_id"])
    if not chain or chain[0].list_id != list_id:
        raise SubtaskListMismatch()


async def update_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
    if_match: Precondition | None,
) -> TaskRecord:
    current = await locked_current(connection, owner, task_id, if_match)
    return await apply_update(connection, owner, current, changes, now)


async def locked_current(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID, if_match: Precondition | None
) -> TaskRecord:
    """Takes the owner's change counter, then reads the task (403/404/412 as `update_task`)."""
    await take_counter_lock(connection, owner)
    return await current_task(connection, owner, task_id, if_match)


async def apply_update(
    connection: AsyncConnection,
    owner: str,
    current: TaskRecord,
    changes: dict[str, Any],
    now: datetime,
    *,
    reopen_steps: bool = False,
) -> TaskRecord:
    """`update_task` after `locked_current`. `reopen_steps`: its completed descendants are
    reopened (a recurring task moving to its next occurrence)."""
    task_id = current["id"]
    changes_list = "list_id" in changes and changes["list_id"] != current["list_id"]
    if changes_list:
        await _check_list_change(connection, owner, current, changes["list_id"])
    completes = changes.get("is_completed") is True and not current["is_completed"]
    reopens = changes.get("is_completed") is False and current["is_completed"]
    if completes or reopen_steps:
        for node in await tree_repository.subtree(connection, owner, task_id):
            if node.is_completed != completes:
                await write_task(connection, owner, node.id, {"is_completed": completes}, now)
    tags: list[str] | None = changes.get("tags")
    task = await write_task(connection, owner, task_id, changes, now)
    if tags is not None:
        await tag_rows.replace_tags(connection, owner, task_id, tags)
        task["tags"] = tags
    if changes_list:
        await carry_subtree(connection, owner, task_id, changes["list_id"], now)
    if completes or reopens:
        await parent_changed(connection, owner, task["parent_id"], now, reopen=reopens)
    return task


async def delete_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    now: datetime,
    if_match: Precondition | None,
) -> None:
    await take_counter_lock(connection, owner)
    current = await current_task(connection, owner, task_id, if_match)
    for node in await tree_repository.subtree(connection, owner, task_id):
        await repository.delete_task(connection, owner, node.id, now)
    await repository.delete_task(connection, owner, task_id, now)
    await parent_changed(connection, owner, current["parent_id"], now, reopen=False)
