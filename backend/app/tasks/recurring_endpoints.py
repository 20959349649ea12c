"""/api/tasks/{id}/skip, /completions and /occurrences: a recurring task's own routes."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from app.auth.dependencies import CurrentUserId
from app.errors import (
    AuthError,
    IdempotencyKeyReused,
    InvalidInput,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    TaskForbidden,
    TaskNotFound,
)
from app.http import conditional
from app.http.dependencies import Pagination, database_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.idempotency.route import idempotent
from app.recurrence.schemas import CompletionRead, OccurrenceRead
from app.recurrence.series import MAX_OCCURRENCES
from app.tasks import recurring
from app.tasks.dependencies import TASK_ID_PATH, TaskId
from app.tasks.schemas import TaskRead

_ETAG = {"ETag": {"description": "The task's version, strong.", "schema": {"type": "string"}}}
_READ_ERRORS = (InvalidInput, AuthError, TaskForbidden, TaskNotFound, RateLimited)

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.post(
    TASK_ID_PATH + "/skip",
    response_model=TaskRead,
    response_description="The task, moved to its next occurrence (or completed, if none).",
    responses={
        200: {"headers": _ETAG},
        **error_responses(
            InvalidInput,
            AuthError,
            TaskForbidden,
            TaskNotFound,
            PreconditionFailed,
            IdempotencyKeyReused,
            RateLimited,
            ServiceUnavailable,
        ),
    },
    openapi_extra={"parameters": [conditional.IF_MATCH, conditional.IDEMPOTENCY_KEY]},
)
@idempotent
async def skip_occurrence(request: Request, user_id: CurrentUserId, task_id: TaskId) -> Response:
    """Skip the current occurrence of a recurring task: its due moves to the next occurrence,
    and no completion is recorded. When COUNT or UNTIL has run out, the task completes."""
    database = database_of(request)
    if_match = conditional.if_match(request)
    task = await recurring.skip_occurrence(database, user_id, task_id, if_match)
    return JsonBody(task, headers={"ETag": task["etag"]})


@router.get(
    TASK_ID_PATH + "/completions",
    response_model=list[CompletionRead],
    response_description="The task's completed occurrences, newest first.",
    responses=error_responses(*_READ_ERRORS, ServiceUnavailable),
)
async def list_completions(
    request: Request, user_id: CurrentUserId, task_id: TaskId, page: Pagination
) -> Response:
    """Every completion of a recurring task: which occurrence (its due) and when."""
    database = database_of(request)
    rows = await recurring.list_completions(database, user_id, task_id, page.limit, page.offset)
    return JsonBody(rows)


@router.get(
    TASK_ID_PATH + "/occurrences",
    response_model=list[OccurrenceRead],
    response_description="The current due and the next ones, in order.",
    responses=error_responses(*_READ_ERRORS, ServiceUnavailable),
)
async def list_occurrences(
    request: Request,
    user_id: CurrentUserId,
    task_id: TaskId,
    start: Annotated[AwareDatetime | None, Query(alias="from", description="Default: now.")] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="Default: a year after `from`.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_OCCURRENCES)] = 20,
) -> Response:
    """A recurring task's upcoming occurrences in [`from`, `to`): at most `limit` (100)."""
    database = database_of(request)
    found = await recurring.list_occurrences(database, user_id, task_id, start, end, limit)
    return JsonBody([{"due_date": due.date, "due_at": due.at} for due in found])
