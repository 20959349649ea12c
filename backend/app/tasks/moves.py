"""`POST /api/tasks/{id}/move`: a task, with its subtree, to another place among its siblings,
under another parent, into another list, in the caller's transaction (locked first, as in
app.tasks.family). Everything is checked before anything is written: a refused move writes
nothing.

Siblings are the tasks of the same list under the same parent. Where the task goes:
- the parent: `parent_id` if given (null: the top level), else the current one;
- the list: under a parent, the parent's (a `list_id` that differs is SUBTASK_LIST_MISMATCH);
  at the top level, `list_id` if given (null: no list), else the current one;
- the place: after/before a sibling there, or first/last (the default: last).
A task that changes list carries its subtree (each descendant its own version and event), and
the target list's MAX_TASKS_PER_LIST counts the whole subtree moved in.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.sequenced import take_counter_lock
from app.errors import (
    AnchorNotSibling,
    ParentInSubtree,
    ParentIsSelf,
    PositionKeyTooLong,
    SubtaskListMismatch,
)
from app.kit import positions
from app.kit.etags import Precondition
from app.tasks import family, list_rows, repository, tree_repository
from app.tasks.family import TreeLimits
from app.tasks.repository import TaskRecord
from app.tasks.schemas import TaskMove
from app.tasks.tree_repository import Node


async def move_task(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    move: TaskMove,
    now: datetime,
    limits: TreeLimits,
    if_match: Precondition | None,
) -> TaskRecord:
    await take_counter_lock(connection, owner)
    current = await family.current_task(connection, owner, task_id, if_match)
    old_parent, old_list = current["parent_id"], current["list_id"]
    parent = old_parent if move.keeps_parent else move.parent_id
    parent_node = None
    if parent is not None:
        parent_node = await _check_parent(connection, owner, task_id, parent, old_parent, limits)
    to_list = _target_list(current, move, parent_node)
    if to_list is not None and to_list != old_list:
        await list_rows.check_list(connection, owner, to_list)
    key = await _key_for(connection, owner, task_id, (parent, to_list), move, limits)
    changes = {"parent_id": parent, "position": key, "list_id": to_list}
    task = await family.write_task(connection, owner, task_id, changes, now)
    if to_list != old_list:
        await family.carry_subtree(connection, owner, task_id, to_list, now)
        if to_list is not None:
            await list_rows.check_room(connection, owner, to_list, limits.max_tasks_per_list)
    if parent != old_parent:
        await family.parent_changed(connection, owner, old_parent, now, reopen=False)
        reopen = not current["is_completed"]
        await family.parent_changed(connection, owner, parent, now, reopen=reopen)
    return task


def _target_list(current: TaskRecord, move: TaskMove, parent: Node | None) -> uuid.UUID | None:
    given = "list_id" in move.model_fields_set
    if parent is None:
        return move.list_id if given else current["list_id"]
    if given and move.list_id != parent.list_id:
        raise SubtaskListMismatch()
    return parent.list_id


async def _check_parent(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    parent: uuid.UUID,
    old_parent: uuid.UUID | None,
    limits: TreeLimits,
) -> Node:
    """The new parent, if the task (with its subtree) may go under it."""
    if parent == task_id:
        raise ParentIsSelf()
    chain = await tree_repository.ancestors(connection, owner, parent)
    if any(node.id == task_id for node in chain):
        raise ParentInSubtree()
    descendants = await tree_repository.subtree(connection, owner, task_id)
    height = 1 + max((node.level for node in descendants), default=0)
    family.check_tree_room(chain, height, limits, new_child=parent != old_parent)
    return chain[0]


Siblings = tuple[uuid.UUID | None, uuid.UUID | None]  # (parent, list)


async def _key_for(
    connection: AsyncConnection,
    owner: str,
    task_id: uuid.UUID,
    siblings: Siblings,
    move: TaskMove,
    limits: TreeLimits,
) -> str:
    """The position key of the place asked for, between the neighbours found there."""
    parent, list_id = siblings
    before: str | None
    after: str | None
    if move.after is not None or move.before is not None:
        anchor_id = move.after if move.after is not None else move.before
        assert anchor_id is not None
        anchor = await repository.get_task(connection, owner, anchor_id)
        if anchor is None or anchor_id == task_id or _siblings_of(anchor) != siblings:
            raise AnchorNotSibling()
        place: tree_repository.Place = "after" if move.after is not None else "before"
        other = await tree_repository.neighbour_key(
            connection, owner, parent, list_id, task_id, place, (anchor["position"], anchor_id)
        )
        before, after = (
            (anchor["position"], other) if place == "after" else (other, anchor["position"])
        )
    elif move.place == "first":
        before = None
        after = await tree_repository.neighbour_key(
            connection, owner, parent, list_id, task_id, "first"
        )
    else:
        before = await tree_repository.neighbour_key(
            connection, owner, parent, list_id, task_id, "last"
        )
        after = None
    try:
        return positions.key_between(before, after, limits.max_key_length)
    except positions.PositionKeyTooLong:
        raise PositionKeyTooLong() from None


def _siblings_of(task: TaskRecord) -> Siblings:
    return task["parent_id"], task["list_id"]
