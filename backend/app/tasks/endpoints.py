"""/api/tasks: HTTP in, service call, HTTP out."""

from fastapi import APIRouter, Request, Response, status

from app.auth.dependencies import CurrentUserId
from app.errors import (
    AuthError,
    IdempotencyKeyReused,
    InvalidIfMatch,
    InvalidInput,
    ListFull,
    PayloadTooLarge,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    SubtaskLimitReached,
    TaskForbidden,
    TaskNotFound,
    TaskQuotaExceeded,
    ValidationFailed,
)
from app.http import conditional
from app.http.dependencies import Pagination, database_of, settings_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody, json_array, json_text
from app.idempotency.route import idempotent
from app.kit.pagination import MAX_PAGE_SIZE, next_cursor_link, next_page_link
from app.tasks import service
from app.tasks.dependencies import TASK_ID_PATH, TaskId
from app.tasks.list_params import LIST_PARAMETERS, TaskListQuery, cursor_signing_key
from app.tasks.schemas import TaskCreate, TaskRead, TaskUpdate

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
    "filter value or sort key that does not exist, a malformed date, a boolean other than "
    "`true`/`false`, `cursor` with an `offset` above 0; "
    "`INVALID_CURSOR`: a cursor that was altered, or belongs to another user, filter or sort."
)
_CONFLICT_DESCRIPTION = (
    "`TASK_QUOTA_EXCEEDED`: the caller has `MAX_TASKS_PER_USER` tasks; `LIST_FULL`: the list "
    "named by `list_id` has `MAX_TASKS_PER_LIST` tasks. Nothing was written."
)
_ETAG = {"ETag": {"description": "The task's version, strong.", "schema": {"type": "string"}}}
_LOCATION = {
    "Location": {
        "description": "The new task's URL (`/api/tasks/{id}`), relative unless the server sets "
        "`PUBLIC_BASE_URL`.",
        "schema": {"type": "string"},
    }
}
_REPLAYED = {
    "Idempotency-Replayed": {
        "description": "`true` when this is the stored response of an earlier request with the "
        "same `Idempotency-Key`.",
        "schema": {"type": "string"},
    }
}

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
    page: Pagination,
    query: TaskListQuery,
) -> Response:
    """List the caller's tasks, filtered and sorted as asked, newest first by default.

    A `Link: rel="next"` header means more pages. Prefer its `cursor` (sent whenever the request
    has a filter, a sort or a `cursor`, even empty): a walk by cursor never meets a task twice
    and never skips one that stayed unchanged, while tasks are written meanwhile. `offset` is
    kept for existing clients: it shifts when tasks are added or removed."""
    database = database_of(request)
    key = cursor_signing_key(request) if query.uses_cursor else b""
    result = await service.list_tasks_json(database, user_id, page, query, key)
    headers = None
    base_url = settings_of(request).public_base_url
    if result.next_cursor is not None:
        headers = {"Link": next_cursor_link(request.url, result.next_cursor, base_url)}
    elif result.has_more:
        headers = {"Link": next_page_link(request.url, page, base_url)}
    return json_array(result.items, headers=headers)


@router.post(
    "",
    response_model=TaskRead,
    status_code=status.HTTP_201_CREATED,
    response_description="The created task.",
    responses={
        201: {"headers": {**_ETAG, **_LOCATION, **_REPLAYED}},
        **error_responses(
            InvalidInput,
            AuthError,
            PayloadTooLarge,
            TaskQuotaExceeded,
            SubtaskLimitReached,
            IdempotencyKeyReused,
            RateLimited,
            ServiceUnavailable,
            descriptions={409: _CONFLICT_DESCRIPTION},
        ),
    },
    openapi_extra={"parameters": [conditional.IDEMPOTENCY_KEY]},
)
@idempotent
async def create_task(request: Request, body: TaskCreate, user_id: CurrentUserId) -> Response:
    """Create a task owned by the caller. With `Idempotency-Key`, a retry creates nothing more."""
    database = database_of(request)
    settings = settings_of(request)
    task = await service.create_task(database, user_id, body, service.tree_limits(settings))
    location = _location(request, settings.public_base_url, task["id"])
    headers = {"ETag": task["etag"], "Location": location}
    return JsonBody(task, status_code=status.HTTP_201_CREATED, headers=headers)


def _location(request: Request, base_url: str | None, task_id: object) -> str:
    """The new task's URL: relative, or absolute on `PUBLIC_BASE_URL`; never built on the
    request's Host header, which the client chooses (as for `Link`). The path comes from the
    scope: building `request.url` would parse the whole URL on every create."""
    return f"{base_url or ''}{request.scope['path'].rstrip('/')}/{task_id}"


@router.get(
    TASK_ID_PATH,
    response_model=TaskRead,
    response_description="The task.",
    responses={
        200: {"headers": _ETAG},
        304: {"description": "`If-None-Match` names the current ETag: no body.", "headers": _ETAG},
        **error_responses(AuthError, TaskForbidden, TaskNotFound, RateLimited, ServiceUnavailable),
    },
    openapi_extra={"parameters": [conditional.IF_NONE_MATCH]},
)
async def get_task(request: Request, user_id: CurrentUserId, task_id: TaskId) -> Response:
    """Read one of the caller's tasks."""
    database = database_of(request)
    body, etag = await service.get_task_json(database, user_id, task_id)
    headers = {"ETag": etag}
    if_none_match = conditional.if_none_match(request)
    if if_none_match is not None and if_none_match.matches(etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return json_text(body, headers=headers)


@router.put(
    TASK_ID_PATH,
    response_model=TaskRead,
    response_description="The task as stored now.",
    responses={
        200: {"headers": _ETAG},
        **error_responses(
            InvalidInput,
            AuthError,
            TaskForbidden,
            TaskNotFound,
            ListFull,
            PreconditionFailed,
            PayloadTooLarge,
            RateLimited,
            ServiceUnavailable,
        ),
    },
    openapi_extra={"parameters": [conditional.IF_MATCH]},
)
async def update_task(
    request: Request,
    body: TaskUpdate,
    user_id: CurrentUserId,
    task_id: TaskId,
) -> Response:
    """Change some fields of one of the caller's tasks; omitted fields are kept."""
    database = database_of(request)
    if_match = conditional.if_match(request)
    max_per_list = settings_of(request).max_tasks_per_list
    task = await service.update_task(database, user_id, task_id, body, if_match, max_per_list)
    return JsonBody(task, headers={"ETag": task["etag"]})


@router.delete(
    TASK_ID_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    response_description="Deleted; no body.",
    responses=error_responses(
        InvalidIfMatch(),
        AuthError,
        TaskForbidden,
        TaskNotFound,
        PreconditionFailed,
        RateLimited,
        ServiceUnavailable,
    ),
    openapi_extra={"parameters": [conditional.IF_MATCH]},
)
async def delete_task(request: Request, user_id: CurrentUserId, task_id: TaskId) -> Response:
    """Delete one of the caller's tasks."""
    database = database_of(request)
    await service.delete_task(database, user_id, task_id, conditional.if_match(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)  # no body, so no Content-Type
