"""/api/tasks/{id}/move and /api/tasks/batch: the task tree's own routes."""

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import CurrentUserId
from app.errors import (
    AuthError,
    IdempotencyKeyReused,
    InvalidInput,
    PayloadTooLarge,
    PositionKeyTooLong,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    SubtaskLimitReached,
    TaskForbidden,
    TaskNotFound,
    TaskQuotaExceeded,
)
from app.http import conditional
from app.http.dependencies import database_of, settings_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.idempotency.route import idempotent
from app.tasks import batch, service
from app.tasks.batch_schemas import BatchRequest, BatchResult
from app.tasks.dependencies import TASK_ID_PATH, TaskId
from app.tasks.schemas import TaskMove, TaskRead

_ETAG = {"ETag": {"description": "The task's version, strong.", "schema": {"type": "string"}}}

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.post(
    TASK_ID_PATH + "/move",
    response_model=TaskRead,
    response_description="The task as stored now, in its new place.",
    responses={
        200: {"headers": _ETAG},
        **error_responses(
            InvalidInput,
            AuthError,
            TaskForbidden,
            TaskNotFound,
            SubtaskLimitReached,
            PositionKeyTooLong,
            PreconditionFailed,
            PayloadTooLarge,
            RateLimited,
            ServiceUnavailable,
        ),
    },
    openapi_extra={"parameters": [conditional.IF_MATCH]},
)
async def move_task(
    request: Request,
    body: TaskMove,
    user_id: CurrentUserId,
    task_id: TaskId,
) -> Response:
    """Move one of the caller's tasks, with its subtasks: under another parent (or to the top
    level), and after or before a task there, or first or last (the default: last). A refused
    move (a cycle, another user's parent, an anchor that is not a sibling) moves nothing."""
    database = database_of(request)
    settings = settings_of(request)
    if_match = conditional.if_match(request)
    task = await service.move_task(
        database, user_id, task_id, body, service.tree_limits(settings), if_match
    )
    return JsonBody(task, headers={"ETag": task["etag"]})


@router.post(
    "/batch",
    response_model=BatchResult,
    response_description="One result per operation, in order.",
    responses=error_responses(
        InvalidInput,
        AuthError,
        TaskForbidden,
        TaskNotFound,
        TaskQuotaExceeded,
        SubtaskLimitReached,
        PositionKeyTooLong,
        PreconditionFailed,
        PayloadTooLarge,
        IdempotencyKeyReused,
        RateLimited,
        ServiceUnavailable,
    ),
    openapi_extra={"parameters": [conditional.IDEMPOTENCY_KEY]},
)
@idempotent
async def run_batch(request: Request, body: BatchRequest, user_id: CurrentUserId) -> Response:
    """Apply up to `MAX_BATCH_OPERATIONS` (100) operations (create, update, complete, move,
    delete) in order, in one transaction: all of them, or none. A later operation may name a
    task created earlier in the batch by its `temp_id`. An error names the operation that
    failed (`operations[3] (update): ...`) and nothing is written."""
    database = database_of(request)
    settings = settings_of(request)
    results = await batch.run_batch(
        database, user_id, body, service.tree_limits(settings), settings.max_batch_operations
    )
    return JsonBody({"results": results})
