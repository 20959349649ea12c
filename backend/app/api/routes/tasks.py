"""/api/tasks: HTTP in, service call, HTTP out."""

from fastapi import APIRouter, Request, Response, status

from app.api.deps import CurrentUserId, DatabaseDep, Pagination, TaskId
from app.api.responses import JsonBody
from app.errors import (
    AuthError,
    InvalidInput,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    TaskForbidden,
    TaskNotFound,
    ValidationFailed,
)
from app.openapi import error_responses
from app.pagination import MAX_PAGE_SIZE, next_page_link
from app.schemas.task import TaskCreate, TaskRead, TaskUpdate
from app.services import tasks as service
from app.state import app_state

_NEXT_PAGE_LINK = {
    "description": 'More tasks follow: `</api/tasks?limit=L&offset=O>; rel="next"`, relative '
    "unless the server sets `PUBLIC_BASE_URL`: resolve it against the response's URL "
    "(`new URL(link, response.url)`).",
    "schema": {"type": "string"},
}
_BAD_PAGE = ValidationFailed(f"query.limit: Input should be less than or equal to {MAX_PAGE_SIZE}")
_BAD_PAGE_DESCRIPTION = "`limit` or `offset` is not an integer in range: `VALIDATION_ERROR`."

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get(
    "",
    response_model=list[TaskRead],
    response_description="The caller's tasks, newest first.",
    responses={
        200: {"headers": {"Link": _NEXT_PAGE_LINK}},
        **error_responses(
            _BAD_PAGE,
            AuthError,
            RateLimited,
            ServiceUnavailable,
            descriptions={400: _BAD_PAGE_DESCRIPTION},
        ),
    },
)
async def list_tasks(
    request: Request, user_id: CurrentUserId, database: DatabaseDep, page: Pagination
) -> Response:
    """List the caller's tasks, newest first. A `Link: rel="next"` header means more pages."""
    result = await service.list_tasks(database, user_id, page)
    headers = None
    if result.has_more:
        base_url = app_state(request.app).settings.public_base_url
        headers = {"Link": next_page_link(request.url, page, base_url)}
    return JsonBody(result.items, headers=headers)


@router.post(
    "",
    response_model=TaskRead,
    status_code=status.HTTP_201_CREATED,
    response_description="The created task.",
    responses=error_responses(
        InvalidInput, AuthError, PayloadTooLarge, RateLimited, ServiceUnavailable
    ),
)
async def create_task(body: TaskCreate, user_id: CurrentUserId, database: DatabaseDep) -> Response:
    """Create a task owned by the caller."""
    task = await service.create_task(database, user_id, body)
    return JsonBody(task, status_code=status.HTTP_201_CREATED)


@router.get(
    "/{task_id}",
    response_model=TaskRead,
    response_description="The task.",
    responses=error_responses(
        AuthError, TaskForbidden, TaskNotFound, RateLimited, ServiceUnavailable
    ),
)
async def get_task(user_id: CurrentUserId, task_id: TaskId, database: DatabaseDep) -> Response:
    """Read one of the caller's tasks."""
    return JsonBody(await service.get_task(database, user_id, task_id))


@router.put(
    "/{task_id}",
    response_model=TaskRead,
    response_description="The task as stored now.",
    responses=error_responses(
        InvalidInput,
        AuthError,
        TaskForbidden,
        TaskNotFound,
        PayloadTooLarge,
        RateLimited,
        ServiceUnavailable,
    ),
)
async def update_task(
    body: TaskUpdate, user_id: CurrentUserId, task_id: TaskId, database: DatabaseDep
) -> Response:
    """Change some fields of one of the caller's tasks; omitted fields are kept."""
    return JsonBody(await service.update_task(database, user_id, task_id, body))


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_description="Deleted; no body.",
    responses=error_responses(
        AuthError, TaskForbidden, TaskNotFound, RateLimited, ServiceUnavailable
    ),
)
async def delete_task(user_id: CurrentUserId, task_id: TaskId, database: DatabaseDep) -> Response:
    """Delete one of the caller's tasks."""
    await service.delete_task(database, user_id, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)  # no body, so no Content-Type
