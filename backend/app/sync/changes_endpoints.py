"""/api/tasks/changes: delta sync. Registered before /api/tasks/{task_id}."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import CurrentUserId
from app.errors import AuthError, InvalidInput, RateLimited, ServiceUnavailable, SyncTokenExpired
from app.http.dependencies import DatabaseDep
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.sync.schemas import ChangesRead
from app.sync.service import Changes, changes_since
from app.sync.tokens import MAX_TOKEN_LENGTH, seq_of, token_of

router = APIRouter(prefix="/api/tasks", tags=["sync"])

_NEXT_PAGE_LINK = {
    "description": 'More changes follow: `</api/tasks/changes?since=T&limit=L>; rel="next"`.',
    "schema": {"type": "string"},
}


@router.get(
    "/changes",
    response_model=ChangesRead,
    response_description="The caller's changes since the token, and the next token.",
    responses={
        200: {"headers": {"Link": _NEXT_PAGE_LINK}},
        **error_responses(
            InvalidInput, AuthError, SyncTokenExpired, RateLimited, ServiceUnavailable
        ),
    },
)
async def list_changes(
    request: Request,
    user_id: CurrentUserId,
    database: DatabaseDep,
    since: Annotated[
        str | None,
        Query(
            max_length=MAX_TOKEN_LENGTH,
            description="The `next_token` of the previous call; omit it for everything.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Response:
    """The caller's tasks created or changed, and ids of those deleted, since `since`."""
    result = await changes_since(
        database, user_id, None if since is None else seq_of(since, user_id), limit
    )
    token = token_of(result.seq, user_id)
    headers = None
    if result.has_more:
        next_url = request.url.include_query_params(since=token, limit=limit)
        headers = {"Link": f'<{next_url.path}?{next_url.query}>; rel="next"'}
    return JsonBody(changes_body(result, token), headers=headers)


def changes_body(result: Changes, token: str) -> dict[str, object]:
    return {
        "tasks": [change.task for change in result.changes if change.task is not None],
        "deleted": [change.task_id for change in result.changes if change.task is None],
        "next_token": token,
        "has_more": result.has_more,
    }
