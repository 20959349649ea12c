"""/api/tags: the caller's tags, read-only (tags are written with their tasks)."""

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import CurrentUserId
from app.errors import AuthError, RateLimited, ServiceUnavailable, ValidationFailed
from app.http.dependencies import Pagination, database_of, settings_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.kit.pagination import MAX_PAGE_SIZE, next_page_link
from app.tags import service
from app.tags.schemas import TagRead

router = APIRouter(prefix="/api/tags", tags=["tags"])

_BAD_PAGE = ValidationFailed(f"query.limit: Input should be less than or equal to {MAX_PAGE_SIZE}")


@router.get(
    "",
    response_model=list[TagRead],
    response_description="The caller's tags, ignoring case, in alphabetical order.",
    responses={
        200: {
            "headers": {
                "Link": {
                    "description": 'More tags follow: `</api/tags?limit=L&offset=O>; rel="next"`.',
                    "schema": {"type": "string"},
                }
            }
        },
        **error_responses(_BAD_PAGE, AuthError, RateLimited, ServiceUnavailable),
    },
)
async def list_tags(request: Request, user_id: CurrentUserId, page: Pagination) -> Response:
    """List the caller's tags with how many of their tasks carry each. Another user's tags are
    never listed or counted."""
    database = database_of(request)
    result = await service.list_tags(database, user_id, page)
    headers = None
    if result.has_more:
        base_url = settings_of(request).public_base_url
        headers = {"Link": next_page_link(request.url, page, base_url)}
    return JsonBody(result.items, headers=headers)
