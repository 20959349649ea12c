"""/api/tasks: HTTP in, service call, HTTP out."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.deps import CurrentUserId, SessionDep, TaskId
from app.errors import ValidationFailed
from app.openapi import error_responses
from app.schemas.task import TaskCreate, TaskRead, TaskUpdate
from app.services import tasks as service

MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000

_NEXT_PAGE_LINK = {
    "description": 'More tasks follow: `</api/tasks?limit=L&offset=O>; rel="next"`.',
    "schema": {"type": "string"},
}

_BAD_PAGE = (
    "`limit` or `offset` is not an integer in range: `VALIDATION_ERROR`.",
    ValidationFailed(f"query.limit: Input should be less than or equal to {MAX_PAGE_SIZE}"),
)

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get(
    "",
    response_model=list[TaskRead],
    response_description="The caller's tasks, newest first.",
    responses={
        200: {"headers": {"Link": _NEXT_PAGE_LINK}},
        **error_responses(400, 401, 503, overrides={400: _BAD_PAGE}),
    },
)
async def list_tasks(
    request: Request,
    response: Response,
    user_id: CurrentUserId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[TaskRead]:
    """List the caller's tasks, newest first. A `Link: rel="next"` header means more pages."""
    tasks = await service.list_tasks(session, user_id, limit=limit + 1, offset=offset)
    if len(tasks) > limit:
        # Relative, so the client's Host header is never reflected back.
        next_url = request.url.include_query_params(limit=limit, offset=offset + limit)
        response.headers["Link"] = f'<{next_url.path}?{next_url.query}>; rel="next"'
    return [TaskRead.model_validate(task) for task in tasks[:limit]]


@router.post(
    "",
    response_model=TaskRead,
    status_code=status.HTTP_201_CREATED,
    response_description="The created task.",
    responses=error_responses(400, 401, 413, 503),
)
async def create_task(body: TaskCreate, user_id: CurrentUserId, session: SessionDep) -> TaskRead:
    """Create a task owned by the caller."""
    return TaskRead.model_validate(await service.create_task(session, user_id, body))


@router.get(
    "/{task_id}",
    response_model=TaskRead,
    response_description="The task.",
    responses=error_responses(401, 403, 404, 503),
)
async def get_task(user_id: CurrentUserId, task_id: TaskId, session: SessionDep) -> TaskRead:
    """Read one of the caller's tasks."""
    return TaskRead.model_validate(await service.get_task(session, user_id, task_id))


@router.put(
    "/{task_id}",
    response_model=TaskRead,
    response_description="The task as stored now.",
    responses=error_responses(400, 401, 403, 404, 413, 503),
)
async def update_task(
    body: TaskUpdate, user_id: CurrentUserId, task_id: TaskId, session: SessionDep
) -> TaskRead:
    """Change some fields of one of the caller's tasks; omitted fields are kept."""
    return TaskRead.model_validate(await service.update_task(session, user_id, task_id, body))


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_description="Deleted; no body.",
    responses=error_responses(401, 403, 404, 503),
)
async def delete_task(user_id: CurrentUserId, task_id: TaskId, session: SessionDep) -> None:
    """Delete one of the caller's tasks."""
    await service.delete_task(session, user_id, task_id)
