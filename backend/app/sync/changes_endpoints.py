"""/api/tasks/changes: delta sync. Registered before /api/tasks/{task_id}."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import CurrentUserId
from app.errors import AuthError, InvalidInput, RateLimited, ServiceUnavailable, SyncTokenExpired
from app.http.dependencies import database_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.sync.schemas import AllChangesRead, ChangesRead
from app.sync.service import Changes, changes_since
from app.sync.tokens import MAX_TOKEN_LENGTH, seq_of, token_of

router = APIRouter(prefix="/api/tasks", tags=["sync"])
# Every entity type (tasks and lists); /api/tasks/changes stays tasks only, as it always was.
everything = APIRouter(prefix="/api", tags=["sync"])

_NEXT_PAGE_LINK = {
    "description": "More changes follow: the same path with `?since=T&limit=L` (`</api/tasks/"
    'changes?since=T&limit=L>; rel="next"`).',
    "schema": {"type": "string"},
}
_SINCE = Query(
    max_length=MAX_TOKEN_LENGTH,
    description="The `next_token` of the previous call; omit it for everything.",
)
Since = Annotated[str | None, _SINCE]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
_ERRORS = error_responses(
    InvalidInput, AuthError, SyncTokenExpired, RateLimited, ServiceUnavailable
)


@router.get(
    "/changes",
    response_model=ChangesRead,
    response_description="The caller's changes since the token, and the next token.",
    responses={200: {"headers": {"Link": _NEXT_PAGE_LINK}}, **_ERRORS},
)
async def list_changes(
    request: Request,
    user_id: CurrentUserId,
    since: Since = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Response:
    """The caller's tasks created or changed, and ids of those deleted, since `since`."""
    return await _changes(request, user_id, since, limit, with_lists=False)


@everything.get(
    "/changes",
    response_model=AllChangesRead,
    response_description="The caller's changes of every kind since the token, and the next token.",
    responses={200: {"headers": {"Link": _NEXT_PAGE_LINK}}, **_ERRORS},
)
async def list_all_changes(
    request: Request,
    user_id: CurrentUserId,
    since: Since = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Response:
    """The caller's tasks and lists created or changed, and ids of those deleted, since
    `since`: enough to rebuild every list and task. Tokens are those of `/api/tasks/changes`
    and both event streams."""
    return await _changes(request, user_id, since, limit, with_lists=True)


async def _changes(
    request: Request,
    user_id: str,
    since: str | None,
    limit: int,
    *,
    with_lists: bool,
) -> Response:
    database = database_of(request)
    after = None if since is None else seq_of(since, user_id)
    result = await changes_since(database, user_id, after, limit, with_lists=with_lists)
    token = token_of(result.seq, user_id)
    headers = None
    if result.has_more:
        next_url = request.url.include_query_params(since=token, limit=limit)
        headers = {"Link": f'<{next_url.path}?{next_url.query}>; rel="next"'}
    body = all_changes_body(result, token) if with_lists else changes_body(result, token)
    return JsonBody(body, headers=headers)


def changes_body(result: Changes, token: str) -> dict[str, object]:
    return {
        "tasks": [c.task for c in result.changes if c.changed_task is not None],
        "deleted": [change.task_id for change in result.changes if change.task is None],
        "reminders_fired": reminders_fired(result),
        "next_token": token,
        "has_more": result.has_more,
    }


def all_changes_body(result: Changes, token: str) -> dict[str, object]:
    changes = result.changes
    return {
        "tasks": [change.task for change in changes if change.changed_task is not None],
        "deleted": [c.task_id for c in changes if c.deleted and c.entity_type == "task"],
        "reminders_fired": reminders_fired(result),
        "lists": [change.list for change in changes if change.list is not None],
        "deleted_lists": [c.task_id for c in changes if c.deleted and c.entity_type == "list"],
        "next_token": token,
        "has_more": result.has_more,
    }


def reminders_fired(result: Changes) -> list[dict[str, object]]:
    return [
        {"task": change.task, "reminder": change.reminder}
        for change in result.changes
        if change.reminder is not None
    ]
