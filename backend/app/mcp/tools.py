"""The MCP tools: what a user asks an assistant ("add milk", "what is overdue?"), each one a
call of the task services for the caller the guard verified. A refusal is a tool error whose
text says what to change; a batch is one transaction, so a refused item leaves nothing written."""

import uuid
from datetime import UTC, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import orjson
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from app.http.responses import json_bytes
from app.idempotency.service import IdempotentRequest, StoredResponse, respond_once
from app.kit.keys import fold
from app.kit.pagination import PageParams
from app.mcp import due
from app.mcp.caller import McpContext, caller, tool_errors, write_each
from app.mcp.lists import resolve_list
from app.mcp.schemas import (
    MAX_PAGE,
    MAX_TASKS_PER_CALL,
    AddedTasks,
    DueBoundInput,
    FoundTasks,
    IdempotencyKey,
    ListRef,
    NewDue,
    Overview,
    TaskChange,
    TaskIds,
    TaskPlacement,
    Tasks,
    TextQuery,
    TimeZone,
)
from app.tasks import service as task_service
from app.tasks.query import DueBound, SortKey, TaskFilter, TaskQuery
from app.tasks.schemas import (
    PRIORITIES,
    Priority,
    TaskCreate,
    TaskMove,
    TaskRead,
    TaskUpdate,
    check_tags,
)

# --- read tools --------------------------------------------------------------------------


@tool_errors
async def find_tasks(
    ctx: McpContext,
    text: Annotated[TextQuery | None, Field(description="In title or description.")] = None,
    tags: Annotated[list[str], Field(description="All of these tags.", max_length=20)] = [],  # noqa: B006
    priorities: Annotated[list[Priority], Field(description="Any of these.")] = [],  # noqa: B006
    completed: Annotated[
        bool | None, Field(description="false: open tasks; true: completed ones; null: both.")
    ] = False,
    due_after: Annotated[
        DueBoundInput | None, Field(description="Due after this day (or date-time).")
    ] = None,
    due_before: Annotated[
        DueBoundInput | None, Field(description="Due before this day (or date-time).")
    ] = None,
    overdue: Annotated[bool, Field(description="Only open tasks due before now.")] = False,
    in_list: Annotated[ListRef | None, Field(description="Only tasks in this list.")] = None,
    in_no_list: Annotated[bool, Field(description="Only tasks in no list.")] = False,
    time_zone: TimeZone = "UTC",
    sort: Annotated[
        Literal["due", "-due", "priority", "-priority", "created_at", "-created_at", "title"],
        Field(description="`due`: soonest first (no due date last); `-` reverses."),
    ] = "due",
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 25,
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0,
) -> FoundTasks:
    """Find the user's tasks by text, tags, priority, due range, overdue, completion or
    list."""
    who = caller(ctx, "read")
    if in_list is not None and in_no_list:
        raise ToolError("set in_list or in_no_list, not both")
    zone = ZoneInfo(time_zone)
    try:
        tag_keys = tuple(fold(tag) for tag in check_tags(tags))
    except ValueError as error:
        raise ToolError(f"tags: {error}") from None
    task_filter = TaskFilter(
        completed=False if overdue else completed,
        priorities=tuple(sorted({PRIORITIES.index(name) for name in priorities})),
        tags=tag_keys,
        due_before=due.before(due_before, zone),
        due_after=due.after(due_after, zone),
        text=fold(text) if text else None,
        list_id=None if in_list is None else await resolve_list(who, in_list),
        no_list=in_no_list,
    )
    if overdue:
        task_filter = due.overdue(task_filter, who.database.clock(), zone)
    key: SortKey = sort.removeprefix("-")  # type: ignore[assignment]
    query = TaskQuery(task_filter, key, descending=sort.startswith("-"))
    page = await task_service.list_tasks(who.database, who.owner, PageParams(limit, offset), query)
    found = [TaskRead.model_validate(task) for task in page.items]
    return FoundTasks(tasks=found, next_offset=offset + limit if page.has_more else None)


@tool_errors
async def overview(ctx: McpContext, time_zone: TimeZone = "UTC") -> Overview:
    """How many open tasks are overdue, due today and due in the next 7 days."""
    who = caller(ctx, "read")
    zone = ZoneInfo(time_zone)
    now = who.database.clock().astimezone(UTC)
    today = now.astimezone(zone).date()
    tomorrow = due.midnight(today + timedelta(days=1), zone)
    week_end = due.midnight(today + timedelta(days=8), zone)
    day = timedelta(days=1)
    filters = {
        "overdue": TaskFilter(completed=False, due_before=DueBound(now, today)),
        "due_today": TaskFilter(
            completed=False,
            due_after=DueBound(now - due.MICROSECOND, today - day),
            due_before=DueBound(tomorrow.astimezone(UTC), today + day),
        ),
        "upcoming": TaskFilter(
            completed=False,
            due_after=DueBound((tomorrow - due.MICROSECOND).astimezone(UTC), today),
            due_before=DueBound(week_end.astimezone(UTC), today + 8 * day),
        ),
        "open": TaskFilter(completed=False),
    }
    counts = {
        name: await task_service.count_tasks(who.database, who.owner, task_filter)
        for name, task_filter in filters.items()
    }
    return Overview(today=today, time_zone=time_zone, **counts)


# --- write tools -------------------------------------------------------------------------


@tool_errors
async def add_tasks(
    ctx: McpContext,
    tasks: Annotated[list[TaskCreate], Field(min_length=1, max_length=MAX_TASKS_PER_CALL)],
    idempotency_key: IdempotencyKey,
    in_list: Annotated[
        ListRef | None, Field(description="Into this list, each task that names no `list_id`.")
    ] = None,
) -> AddedTasks:
    """Add one or several tasks at once (all or none), in a list if asked. Retrying with the
    same idempotency_key creates nothing twice: it returns the tasks the first call created."""
    who = caller(ctx, "write")
    if in_list is not None:
        list_id = await resolve_list(who, in_list)
        tasks = [_in(task, list_id) for task in tasks]
    request = IdempotentRequest(
        owner=who.owner,
        key=idempotency_key,
        route="MCP add_tasks",
        raw_body=orjson.dumps([task.model_dump(mode="json") for task in tasks]),
    )
    limits = task_service.tree_limits(who.settings)

    async def create_all() -> StoredResponse:
        created = [
            await task_service.create_task(who.database, who.owner, task, limits) for task in tasks
        ]
        return StoredResponse(200, [], json_bytes({"tasks": created}))

    retention = timedelta(seconds=who.settings.idempotency_key_retention_seconds)
    stored, replayed = await respond_once(who.database, request, retention, create_all)
    created = orjson.loads(stored.body)["tasks"]
    return AddedTasks(tasks=[TaskRead.model_validate(t) for t in created], replayed=replayed)


@tool_errors
async def update_tasks(
    ctx: McpContext,
    updates: Annotated[list[TaskChange], Field(min_length=1, max_length=MAX_TASKS_PER_CALL)],
) -> Tasks:
    """Change fields of one or several tasks (title, description, priority, tags, due,
    completion, `list_id`); omitted fields stay. All or none."""
    who = caller(ctx, "write")
    per_list = who.settings.max_tasks_per_list

    async def write(index: int, task_id: uuid.UUID) -> Any:
        return await task_service.update_task(
            who.database, who.owner, task_id, updates[index].changes, None, per_list
        )

    return await write_each(who, [update.id for update in updates], write)


@tool_errors
async def complete_tasks(
    ctx: McpContext,
    ids: TaskIds,
    completed: Annotated[bool, Field(description="false reopens the tasks.")] = True,
) -> Tasks:
    """Mark tasks completed (or open again with completed=false). All or none."""
    who = caller(ctx, "write")
    change = TaskUpdate(is_completed=completed)

    async def write(index: int, task_id: uuid.UUID) -> Any:
        return await task_service.update_task(who.database, who.owner, task_id, change)

    return await write_each(who, ids, write)


@tool_errors
async def reschedule_tasks(
    ctx: McpContext,
    tasks: Annotated[list[NewDue], Field(min_length=1, max_length=MAX_TASKS_PER_CALL)],
) -> Tasks:
    """Give tasks a new due date (all-day) or date-time, or none; nothing else changes. All or
    none."""
    who = caller(ctx, "write")

    async def write(index: int, task_id: uuid.UUID) -> Any:
        change = tasks[index].as_update()
        return await task_service.update_task(who.database, who.owner, task_id, change)

    return await write_each(who, [item.id for item in tasks], write)


@tool_errors
async def move_tasks(
    ctx: McpContext,
    moves: Annotated[list[TaskPlacement], Field(min_length=1, max_length=MAX_TASKS_PER_CALL)],
) -> Tasks:
    """Move tasks into another list (`in_list`) or out of theirs (`in_no_list`), and/or in
    the tree (`to`): under another task (`parent_id`), to the top level (`parent_id: null`), or
    to a place among their siblings (`place` first or last, or `after` / `before` a task). A
    task's subtasks move with it, into its list; a subtask is always in its parent's list (to
    move one into another list, also take it to the top level). All or none."""
    who = caller(ctx, "write")
    limits = task_service.tree_limits(who.settings)
    # Every list is resolved before anything is written: a wrong name changes nothing.
    named = {
        ref: await resolve_list(who, ref) for ref in dict.fromkeys(m.in_list for m in moves) if ref
    }

    async def write(index: int, task_id: uuid.UUID) -> Any:
        move = _move_of(moves[index], named)
        return await task_service.move_task(who.database, who.owner, task_id, move, limits)

    return await write_each(who, [item.id for item in moves], write)


def _in(task: TaskCreate, list_id: uuid.UUID) -> TaskCreate:
    """The task, in `list_id` unless it names a list of its own."""
    return task if task.list_id is not None else task.model_copy(update={"list_id": list_id})


def _move_of(placement: TaskPlacement, named: dict[str, uuid.UUID]) -> TaskMove:
    """One move of the REST API's (`POST /api/tasks/{id}/move`): the place in the tree, and
    the list when one is named."""
    body = {} if placement.to is None else placement.to.model_dump(mode="json", exclude_unset=True)
    if placement.changes_list:
        body["list_id"] = None if placement.in_list is None else str(named[placement.in_list])
    return TaskMove.model_validate(body)


# What the guard asks the write scope for (every other tool needs the read scope).
WRITE_TOOLS = ("add_tasks", "update_tasks", "complete_tasks", "reschedule_tasks", "move_tasks")
