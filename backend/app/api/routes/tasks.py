"""/api/tasks: HTTP in, service call, HTTP out."""

from fastapi import APIRouter, Request, Response, status

from app.api.deps import CurrentUserId, DatabaseDep, Pagination, TaskId
from app.api.list_query import LIST_PARAMETERS, TaskListQuery, cursor_signing_key
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
from app.pagination import MAX_PAGE_SIZE, next_cursor_link, next_page_link
from app.schemas.task import TaskCreate, TaskRead, TaskUpdate
from app.services import tasks as service
from app.state import app_state

_NEXT_PAGE_LINK = {
    "description": "More tasks follow: the same query for the next page, with a new `cursor` "
    '(`</api/tasks?sort=due&limit=L&cursor=C>; rel="next"`) when the request had a filter, a '
    "sort or a cursor, else with the next `offset` (`</api/tasks?limit=L&offset=O>; "
    'rel="next"`). Relative unless the server sets `PUBLIC_BASE_URL`: resolve it against the '
    "response's URL (`new URL(link, response.url)`).",
    "schema": {"type": "string"},
}
_BAD_PAGE = ValidationFailed(f"query.limit: Input should be less than or equal to {MAX_PAGE_SIZE}")
_BAD_PAGE_DESCRIPTION = (
    "`VALIDATION_ERROR`: `limit` or `offset` not an integer in range, a parameter given twice, a "
    "filter value or sort key that does not exist, a malformed date, `cursor` with `offset`; "
    "`INVALID_CURSOR`: a cursor that was altered, or belongs to another user, filter or sort."
)

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get(
    "",
    response_model=list[TaskRead],
    response_description="The caller's tasks, in the order asked for (newest first by default).",
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
    openapi_extra={"parameters": LIST_PARAMETERS},
)
async def list_tasks(
    request: Request,
    user_id: CurrentUserId,
    database: DatabaseDep,
    page: Pagination,
    query: TaskListQuery,
) -> Response:
    """List the caller's tasks, filtered and sorted as asked, newest first by default.

    A `Link: rel="next"` header means more pages. Prefer its `cursor` (sent whenever the request
    has a filter, a sort or a `cursor`, even empty): a walk by cursor never meets a task twice
    and never skips one that stayed unchanged, while tasks are written meanwhile. `offset` is
    kept for existing clients: it shifts when tasks are added or removed."""
    key = cursor_signing_key(request) if query.uses_cursor else b""
    result = await service.list_tasks(database, user_id, page, query, key)
    headers = None
    base_url = app_state(request.app).settings.public_base_url
    if result.next_cursor is not None:
        headers = {"Link": next_cursor_link(request.url, result.next_cursor, base_url)}
    elif result.has_more:
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
