"""/api/tasks: HTTP in, service call, HTTP out."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.deps import CurrentUserId, SessionDep, TaskId
from app.errors import ErrorResponse
from app.schemas.task import TaskCreate, TaskRead, TaskUpdate
from app.services import tasks as service

MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000

_error = {"model": ErrorResponse}
_auth_errors: dict[int | str, dict[str, object]] = {
    400: {**_error, "description": "Invalid input"},
    401: {**_error, "description": "Missing, invalid or expired token"},
}
_owned_errors: dict[int | str, dict[str, object]] = {
    **_auth_errors,
    403: {**_error, "description": "The task belongs to another user"},
    404: {**_error, "description": "No task with this id"},
}

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskRead], responses=_auth_errors)
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
    responses={**_auth_errors, 413: {**_error, "description": "Body too large"}},
)
async def create_task(body: TaskCreate, user_id: CurrentUserId, session: SessionDep) -> TaskRead:
    """Create a task owned by the caller."""
    return TaskRead.model_validate(await service.create_task(session, user_id, body))


@router.get("/{task_id}", response_model=TaskRead, responses=_owned_errors)
async def get_task(user_id: CurrentUserId, task_id: TaskId, session: SessionDep) -> TaskRead:
    """Read one of the caller's tasks."""
    return TaskRead.model_validate(await service.get_task(session, user_id, task_id))


@router.put(
    "/{task_id}",
    response_model=TaskRead,
    responses={**_owned_errors, 413: {**_error, "description": "Body too large"}},
)
async def update_task(
    body: TaskUpdate, user_id: CurrentUserId, task_id: TaskId, session: SessionDep
) -> TaskRead:
    """Change some fields of one of the caller's tasks; omitted fields are kept."""
    return TaskRead.model_validate(await service.update_task(session, user_id, task_id, body))


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_owned_errors)
async def delete_task(user_id: CurrentUserId, task_id: TaskId, session: SessionDep) -> None:
    """Delete one of the caller's tasks."""
    await service.delete_task(session, user_id, task_id)
