"""The MCP tools: what a user asks an assistant ("add milk", "what is overdue?"), each one a
call of the task services for the caller the guard verified. A refusal is a tool error whose
text says what to change; a batch is one transaction, so a refused item leaves nothing written."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import orjson
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from app.http.responses import json_bytes
from app.idempotency.service import IdempotentRequest, StoredResponse, respond_once
from app.kit.keys import fold
from app.kit.pagination import PageParams
from app.mcp.caller import McpContext, caller, tool_errors, write_each
from app.mcp.schemas import (
    MAX_PAGE,
    MAX_TASKS_PER_CALL,
    AddedTasks,
    DueBoundInput,
    FoundTasks,
    IdempotencyKey,
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
from app.tasks.schemas import PRIORITIES, Priority, TaskCreate, TaskRead, TaskUpdate, check_tags

_MICROSECOND = timedelta(microseconds=1)


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
    time_zone: TimeZone = "UTC",
    sort: Annotated[
        Literal["due", "-due", "priority", "-priority", "created_at", "-created_at", "title"],
        Field(description="`due`: soonest first (no due date last); `-` reverses."),
    ] = "due",
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 25,
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0,
) -> FoundTasks:
    """Find the user's tasks by text, tags, priority, due range, overdue or completion."""
    who = caller(ctx, "read")
    zone = ZoneInfo(time_zone)
    try:
        tag_keys = tuple(fold(tag) for tag in check_tags(tags))
    except ValueError as error:
        raise ToolError(f"tags: {error}") from None
    task_filter = TaskFilter(
        completed=False if overdue else completed,
        priorities=tuple(sorted({PRIORITIES.index(name) for name in priorities})),
        tags=tag_keys,
        due_before=_before(due_before, zone),
        due_after=_after(due_after, zone),
        text=fold(text) if text else None,
    )
    if overdue:
        task_filter = _overdue(task_filter, who.database.clock(), zone)
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
    tomorrow = _midnight(today + timedelta(days=1), zone)
    week_end = _midnight(today + timedelta(days=8), zone)
    day = timedelta(days=1)
    filters = {
        "overdue": TaskFilter(completed=False, due_before=DueBound(now, today)),
        "due_today": TaskFilter(
            completed=False,
            due_after=DueBound(now - _MICROSECOND, today - day),
            due_before=DueBound(tomorrow.astimezone(UTC), today + day),
        ),
        "upcoming": TaskFilter(
            completed=False,
            due_after=DueBound((tomorrow - _MICROSECOND).astimezone(UTC), today),
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
) -> AddedTasks:
    """Add one or several tasks at once (all or none). Retrying with the same idempotency_key
    creates nothing twice: it returns the tasks the first call created."""
    who = caller(ctx, "write")
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
    completion); omitted fields stay. All or none."""
    who = caller(ctx, "write")

    async def write(index: int, task_id: uuid.UUID) -> Any:
        return await task_service.update_task(
            who.database, who.owner, task_id, updates[index].changes
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
    """Move tasks under another task (`parent_id`), to the top level (`parent_id: null`), or
    to a place among their siblings (`place` first or last, or `after` / `before` a task). A
    task's subtasks move with it. All or none."""
    who = caller(ctx, "write")
    limits = task_service.tree_limits(who.settings)

    async def write(index: int, task_id: uuid.UUID) -> Any:
        move = moves[index].to
        return await task_service.move_task(who.database, who.owner, task_id, move, limits)

    return await write_each(who, [item.id for item in moves], write)


# --- due bounds in the user's time zone ----------------------------------------------------


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def _before(value: date | datetime | None, zone: ZoneInfo) -> DueBound | None:
    """Before a day: before its first instant in the user's zone (all-day tasks: an earlier
    date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return DueBound.before(value)
    return DueBound(_midnight(value, zone).astimezone(UTC), value)


def _after(value: date | datetime | None, zone: ZoneInfo) -> DueBound | None:
    """After a day: after its last instant in the user's zone (all-day tasks: a later date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return DueBound.after(value)
    end = _midnight(value + timedelta(days=1), zone) - _MICROSECOND
    return DueBound(end.astimezone(UTC), value)


def _overdue(task_filter: TaskFilter, now: datetime, zone: ZoneInfo) -> TaskFilter:
    """Due before now: timed tasks before this instant, all-day ones before today in `zone`
    (the stricter bound when due_before was given too)."""
    bound = DueBound(now.astimezone(UTC), now.astimezone(zone).date())
    given = task_filter.due_before
    if given is not None:
        bound = DueBound(min(given.instant, bound.instant), min(given.day, bound.day))
    return TaskFilter(**{**_fields(task_filter), "due_before": bound})


def _fields(task_filter: TaskFilter) -> dict[str, Any]:
    return {name: getattr(task_filter, name) for name in TaskFilter.__dataclass_fields__}


# What the guard asks the write scope for (every other tool needs the read scope).
WRITE_TOOLS = ("add_tasks", "update_tasks", "complete_tasks", "reschedule_tasks", "move_tasks")
