"""/api/lists: HTTP in, service call, HTTP out."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app.auth.dependencies import CurrentUserId
from app.errors import (
    AuthError,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidListId,
    ListForbidden,
    ListFull,
    ListNotFound,
    ListQuotaExceeded,
    PayloadTooLarge,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    ValidationFailed,
)
from app.http import conditional
from app.http.dependencies import Pagination, database_of, settings_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.idempotency.route import idempotent
from app.kit.pagination import MAX_PAGE_SIZE, next_page_link
from app.kit.schemas import CANONICAL_UUID
from app.lists import service
from app.lists.schemas import ListCreate, ListMove, ListRead, ListUpdate

router = APIRouter(prefix="/api/lists", tags=["lists"])

_ETAG = {"ETag": {"description": "The list's version, strong.", "schema": {"type": "string"}}}
_LOCATION = {
    "Location": {
        "description": "The new list's URL (`/api/lists/{id}`), relative unless the server sets "
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
_BAD_PAGE = ValidationFailed(f"query.limit: Input should be less than or equal to {MAX_PAGE_SIZE}")
_DELETE_CONFLICT = (
    "`LIST_NOT_EMPTY`: the list has tasks and the request said neither `tasks=delete` nor "
    "`move_to`; `LIST_FULL`: `move_to`'s list would hold more than `MAX_TASKS_PER_LIST` tasks. "
    "Nothing was deleted."
)
LIST_ID_PATH = "/{list_id}"


async def list_id_from_path(
    list_id: Annotated[
        str, Path(description="The list's UUID.", json_schema_extra={"format": "uuid"})
    ],
) -> uuid.UUID:
    """A malformed id names no list: 404, like a missing one."""
    if CANONICAL_UUID.fullmatch(list_id) is None:
        raise ListNotFound(ListNotFound.NOT_A_UUID)
    return uuid.UUID(list_id)


ListId = Annotated[uuid.UUID, Depends(list_id_from_path)]


@router.get(
    "",
    response_model=list[ListRead],
    response_description="The caller's lists, in their order (`position`, then id).",
    responses={
        200: {
            "headers": {
                "Link": {
                    "description": "More lists follow: "
                    '`</api/lists?limit=L&offset=O>; rel="next"`.',
                    "schema": {"type": "string"},
                }
            }
        },
        **error_responses(_BAD_PAGE, AuthError, RateLimited, ServiceUnavailable),
    },
)
async def list_lists(request: Request, user_id: CurrentUserId, page: Pagination) -> Response:
    """List the caller's lists in their order, archived ones included, each with its counts."""
    database = database_of(request)
    result = await service.list_lists(database, user_id, page)
    headers = None
    if result.has_more:
        base_url = settings_of(request).public_base_url
        headers = {"Link": next_page_link(request.url, page, base_url)}
    return JsonBody(result.items, headers=headers)


@router.post(
    "",
    response_model=ListRead,
    status_code=status.HTTP_201_CREATED,
    response_description="The created list, last of the caller's lists.",
    responses={
        201: {"headers": {**_ETAG, **_LOCATION, **_REPLAYED}},
        **error_responses(
            InvalidInput,
            AuthError,
            PayloadTooLarge,
            ListQuotaExceeded,
            IdempotencyKeyReused,
            RateLimited,
            ServiceUnavailable,
        ),
    },
    openapi_extra={"parameters": [conditional.IDEMPOTENCY_KEY]},
)
@idempotent
async def create_list(request: Request, body: ListCreate, user_id: CurrentUserId) -> Response:
    """Create a list, placed after the caller's other lists. With `Idempotency-Key`, a retry
    creates nothing more."""
    database = database_of(request)
    settings = settings_of(request)
    created = await service.create_list(database, user_id, body, settings.max_lists_per_user)
    location = f"{settings.public_base_url or ''}{request.scope['path']}/{created['id']}"
    headers = {"ETag": created["etag"], "Location": location}
    return JsonBody(created, status_code=status.HTTP_201_CREATED, headers=headers)


@router.get(
    LIST_ID_PATH,
    response_model=ListRead,
    response_description="The list.",
    responses={
        200: {"headers": _ETAG},
        304: {"description": "`If-None-Match` names the current ETag: no body.", "headers": _ETAG},
        **error_responses(AuthError, ListForbidden, ListNotFound, RateLimited, ServiceUnavailable),
    },
    openapi_extra={"parameters": [conditional.IF_NONE_MATCH]},
)
async def get_list(request: Request, user_id: CurrentUserId, list_id: ListId) -> Response:
    """Read one of the caller's lists. (Its counts are not part of its ETag: a 304 can come
    with counts that have changed since.)"""
    database = database_of(request)
    found = await service.get_list(database, user_id, list_id)
    headers = {"ETag": found["etag"]}
    if_none_match = conditional.if_none_match(request)
    if if_none_match is not None and if_none_match.matches(found["etag"]):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return JsonBody(found, headers=headers)


@router.put(
    LIST_ID_PATH,
    response_model=ListRead,
    response_description="The list as stored now.",
    responses={
        200: {"headers": _ETAG},
        **error_responses(
            InvalidInput,
            AuthError,
            ListForbidden,
            ListNotFound,
            PreconditionFailed,
            PayloadTooLarge,
            RateLimited,
            ServiceUnavailable,
        ),
    },
    openapi_extra={"parameters": [conditional.IF_MATCH]},
)
async def update_list(
    request: Request,
    body: ListUpdate,
    user_id: CurrentUserId,
    list_id: ListId,
) -> Response:
    """Change some fields of one of the caller's lists; omitted fields are kept."""
    database = database_of(request)
    if_match = conditional.if_match(request)
    updated = await service.update_list(database, user_id, list_id, body, if_match)
    return JsonBody(updated, headers={"ETag": updated["etag"]})


@router.post(
    LIST_ID_PATH + "/move",
    response_model=ListRead,
    response_description="The list in its new place.",
    responses={
        200: {"headers": {**_ETAG, **_REPLAYED}},
        **error_responses(
            InvalidInput,
            AuthError,
            ListForbidden,
            ListNotFound,
            PreconditionFailed,
            PayloadTooLarge,
            IdempotencyKeyReused,
            RateLimited,
            ServiceUnavailable,
        ),
    },
    openapi_extra={"parameters": [conditional.IF_MATCH, conditional.IDEMPOTENCY_KEY]},
)
@idempotent
async def move_list(
    request: Request, body: ListMove, user_id: CurrentUserId, list_id: ListId
) -> Response:
    """Move one of the caller's lists: `after` or `before` another of their lists, or `place`
    `first` or `last` (the default). Only this list's `position` is written; a list already
    there is left unchanged."""
    database = database_of(request)
    if_match = conditional.if_match(request)
    moved = await service.move_list(database, user_id, list_id, body, if_match)
    return JsonBody(moved, headers={"ETag": moved["etag"]})


@router.delete(
    LIST_ID_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    response_description="Deleted, with its tasks deleted or moved as asked; no body.",
    responses=error_responses(
        InvalidListId(),
        AuthError,
        ListForbidden,
        ListNotFound,
        ListFull,
        PreconditionFailed,
        RateLimited,
        ServiceUnavailable,
        descriptions={
            400: "`INVALID_LIST_ID` (`move_to` names none of the caller's lists), "
            "`VALIDATION_ERROR` (both `tasks` and `move_to`, `move_to` the list itself, an "
            "unknown `tasks` value), `INVALID_IF_MATCH`.",
            409: _DELETE_CONFLICT,
        },
    ),
    openapi_extra={"parameters": [conditional.IF_MATCH]},
)
async def delete_list(
    request: Request,
    user_id: CurrentUserId,
    list_id: ListId,
    tasks: Annotated[
        Literal["delete"] | None,
        Query(description="`delete`: the list's tasks are deleted with it."),
    ] = None,
    move_to: Annotated[
        str | None,
        Query(
            max_length=36,
            description="Another list of the caller's: the list's tasks move there.",
            json_schema_extra={"format": "uuid"},
        ),
    ] = None,
) -> Response:
    """Delete one of the caller's lists. A list with tasks needs `tasks=delete` or
    `move_to=<list id>` (409 `LIST_NOT_EMPTY` otherwise); either way it is one transaction, and
    each task deleted or moved appears in the changes feed and on the event streams."""
    database = database_of(request)
    if tasks is not None and move_to is not None:
        raise ValidationFailed("query: give tasks=delete or move_to, not both")
    target = None
    if move_to is not None:
        if CANONICAL_UUID.fullmatch(move_to) is None:
            raise InvalidListId()
        target = uuid.UUID(move_to)
    how = service.TasksGo(delete=tasks == "delete", move_to=target)
    max_per_list = settings_of(request).max_tasks_per_list
    await service.delete_list(
        database, user_id, list_id, how, conditional.if_match(request), max_per_list
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
