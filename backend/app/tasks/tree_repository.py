"""The queries of the task tree: a task's ancestors, its subtree, and the position keys next
to a place among siblings. Each takes the owner and filters by it in SQL; all read through the
`(user_id, parent_id, position, id)` index (the recursive steps look up by id or by parent),
but the top-level siblings of a list: `(user_id, list_id, position, id)`."""

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Integer, Select, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from app.db.scope import owned_by
from app.tasks.repository import TASKS

C = TASKS.c
# Deeper than any depth limit: a stop for the recursion should a cycle ever be written by hand.
_RECURSION_STOP = 64


@dataclass(frozen=True, slots=True)
class Node:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    is_completed: bool
    subtask_count: int
    list_id: uuid.UUID | None
    level: int  # ancestors: 0 for the task itself, 1 its parent; subtree: 1 its children


def _nodes(rows: Any) -> list[Node]:
    return [Node(*row) for row in rows]


async def ancestors(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> list[Node]:
    """The task (level 0) and its ancestors up to the top, nearest first; [] if the owner has
    no such task."""
    start = (
        select(
            C.id,
            C.parent_id,
            C.is_completed,
            C.subtask_count,
            C.list_id,
            literal(0, Integer).label("level"),
        )
        .where(owned_by(TASKS, owner), C.id == task_id)
        .cte("chain", recursive=True)
    )
    up = TASKS.alias("up")
    chain = start.union_all(
        select(
            up.c.id,
            up.c.parent_id,
            up.c.is_completed,
            up.c.subtask_count,
            up.c.list_id,
            start.c.level + 1,
        ).where(owned_by(up, owner), up.c.id == start.c.parent_id, start.c.level < _RECURSION_STOP)
    )
    return _nodes(await connection.execute(select(chain).order_by(chain.c.level)))


async def subtree(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> list[Node]:
    """The task's descendants (its children at level 1), deepest first."""
    start = (
        select(
            C.id,
            C.parent_id,
            C.is_completed,
            C.subtask_count,
            C.list_id,
            literal(1, Integer).label("level"),
        )
        .where(owned_by(TASKS, owner), C.parent_id == task_id)
        .cte("tree", recursive=True)
    )
    down = TASKS.alias("down")
    tree = start.union_all(
        select(
            down.c.id,
            down.c.parent_id,
            down.c.is_completed,
            down.c.subtask_count,
            down.c.list_id,
            start.c.level + 1,
        ).where(
            owned_by(down, owner), down.c.parent_id == start.c.id, start.c.level < _RECURSION_STOP
        )
    )
    return _nodes(await connection.execute(select(tree).order_by(tree.c.level.desc())))


def _siblings(
    owner: str, parent_id: uuid.UUID | None, list_id: uuid.UUID | None, leaving_out: uuid.UUID
) -> Select[Any]:
    """Siblings share the list and the parent. Under a parent the list is the parent's (a
    subtask is in its parent's list), so only the parent is asked for: the parent's index,
    not a walk of the whole list. At the top level the list sets them apart."""
    where: list[ColumnElement[bool]] = [owned_by(TASKS, owner), C.id != leaving_out]
    if parent_id is not None:
        where.append(C.parent_id == parent_id)
    else:
        where.append(C.parent_id.is_(None))
        where.append(C.list_id.is_(None) if list_id is None else C.list_id == list_id)
    return select(C.position).where(*where).limit(1)


Place = Literal["first", "last", "after", "before"]


async def neighbour_key(
    connection: AsyncConnection,
    owner: str,
    parent_id: uuid.UUID | None,
    list_id: uuid.UUID | None,
    leaving_out: uuid.UUID,
    place: Place,
    anchor: tuple[str, uuid.UUID] | None = None,
) -> str | None:
    """The key on the far side of a place among `parent_id`'s children in `list_id`
    (`leaving_out` aside):
    the first sibling's ("first"), the last one's ("last"), the next one after `anchor`
    ("after") or the one before it ("before"); None when there is none."""
    siblings = _siblings(owner, parent_id, list_id, leaving_out)
    if place == "first":
        statement = siblings.order_by(C.position, C.id)
    elif place == "last":
        statement = siblings.order_by(C.position.desc(), C.id.desc())
    elif place == "after":
        assert anchor is not None
        # The next key strictly greater: equal keys (ordered by id) leave no room between.
        statement = siblings.where(C.position > anchor[0]).order_by(C.position, C.id)
    else:
        assert anchor is not None
        statement = siblings.where(C.position < anchor[0]).order_by(C.position.desc(), C.id.desc())
    key: str | None = await connection.scalar(statement)
    return key
