"""Who calls a tool, and how what a tool meets becomes an answer a model can act on."""

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from app.auth.authenticate import principal_of
from app.config import Settings
from app.db.database import Database
from app.db.errors import is_database_unavailable
from app.errors import ApiError, IdempotencyKeyReused, ResourceForbidden, ResourceNotFound
from app.mcp.schemas import Tasks
from app.state import app_state
from app.tasks.schemas import TaskRead

Need = Literal["read", "write"]
McpContext = Context[Any, Any]
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Caller:
    owner: str
    database: Database
    settings: Settings


def caller(ctx: McpContext, need: Need) -> Caller:
    """Who calls: the principal app.mcp.guard verified for this HTTP request (its token's
    subject, nothing else), holding the scope this tool needs when scopes are configured."""
    request = ctx.request_context.request
    principal = principal_of(request.scope) if request is not None else None
    if request is None or principal is None:  # the guard answers 401 before any tool runs
        raise ToolError("Not authenticated")
    scope = request.scope
    state = app_state(scope["app"])
    settings = state.settings
    required = settings.mcp_write_scope if need == "write" else settings.mcp_read_scope
    if required is not None and required not in principal.scopes:
        raise ToolError(f"The token lacks the scope {required!r}, which this tool needs")
    return Caller(principal.user_id, state.database, settings)


def refused(error: ApiError, task_id: uuid.UUID | None = None) -> ToolError:
    """A service's refusal, as a sentence a model can act on. Another user's task reads as
    no task at all: a tool never tells whether an id exists elsewhere."""
    if isinstance(error, ResourceNotFound | ResourceForbidden):
        return ToolError(
            f"No task {task_id} among this user's tasks; nothing was changed. "
            "Use find_tasks to get the ids."
        )
    if isinstance(error, IdempotencyKeyReused):
        return ToolError(
            "This idempotency_key was used before with other tasks: send a new key for a new "
            "request (the same key only to retry the same call)."
        )
    return ToolError(f"{error.detail} (nothing was changed)")


def tool_errors(tool: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Whatever a tool meets becomes a tool error a model can act on: a refusal in words, a
    database outage as "try again shortly". Anything else is a bug, which the SDK logs and
    answers as a bare "Error executing tool", never a stack trace."""

    @functools.wraps(tool)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await tool(*args, **kwargs)
        except ApiError as error:
            raise refused(error) from None
        except Exception as error:
            if is_database_unavailable(error):
                raise ToolError(
                    "The database is unavailable; try again shortly (nothing was changed)"
                ) from None
            raise

    return guarded


@asynccontextmanager
async def one_transaction(who: Caller) -> AsyncIterator[None]:
    """A batch of writes that all happen or none (Database.unit_of_work)."""
    async with who.database.unit_of_work(who.owner):
        yield


async def write_each(
    who: Caller,
    ids: list[uuid.UUID],
    write: Callable[[int, uuid.UUID], Awaitable[Any]],
) -> Tasks:
    written: list[Any] = []
    current: uuid.UUID | None = None
    try:
        async with one_transaction(who):
            for index, task_id in enumerate(ids):
                current = task_id
                written.append(await write(index, task_id))
    except ApiError as error:
        raise refused(error, current) from None
    return Tasks(tasks=[TaskRead.model_validate(task) for task in written])
