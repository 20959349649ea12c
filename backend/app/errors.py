"""Typed API errors: each class is the one place that states its status, code and meaning.

Every error response is `{"detail": str, "error_code": ErrorCode, "status_code": int}`. The
`ErrorCode` enum, its documentation, the OpenAPI responses (`app.http.openapi.error_responses`) and
the README's table are all derived from, or checked against, the classes below: adding an error
means adding one class. Families (`AuthError`, `InvalidInput`, ...) group the codes a client
handles alike and are never raised themselves.
"""

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class ApiError(Exception):
    """Base of every error the API answers with. Concrete classes set all four class vars."""

    status_code: ClassVar[int] = 500
    error_code: ClassVar[str]
    detail: str = "Internal server error"
    # One line for the error-code documentation: when a client gets this code.
    description: ClassVar[str]
    # For a family: what its codes have in common, as the OpenAPI response description.
    summary: ClassVar[str] = ""

    registry: ClassVar[list[type["ApiError"]]] = []

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "error_code" in cls.__dict__:
            ApiError.registry.append(cls)

    def __init__(self, detail: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)

    # Set by errors after which a retry can succeed (429, 503): sent as `Retry-After`.
    retry_after_seconds: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after_seconds is None:
            return {}
        return {"Retry-After": str(self.retry_after_seconds)}

    @classmethod
    def members(cls) -> list[type["ApiError"]]:
        """The concrete errors of this class or family, in registry order."""
        return [error for error in ApiError.registry if issubclass(error, cls)]


class InvalidInput(ApiError):
    """Any 400 about what the client sent."""

    status_code = 400
    summary = "Invalid input"


class ValidationFailed(InvalidInput):
    error_code = "VALIDATION_ERROR"
    detail = "Invalid request"
    description = "a field, query parameter or body breaks a rule."


class MalformedJson(InvalidInput):
    error_code = "MALFORMED_JSON"
    detail = "Request body is not valid JSON"
    description = "the body is not valid JSON."


class MalformedRequest(ApiError):
    """The HTTP parser's refusal: the request cannot be read at all, so no route sees it."""

    status_code = 400
    error_code = "MALFORMED_REQUEST"
    detail = "The HTTP request is malformed"
    description = (
        "not valid HTTP/1.1 (bad framing or `Content-Length`, bare LF, a bad header name or "
        "value, ...); the connection is closed."
    )


class InvalidCursor(InvalidInput):
    error_code = "INVALID_CURSOR"
    detail = (
        "Invalid cursor: use the `cursor` from this list's Link header, with the same filters "
        "and sort, as the same user"
    )
    description = "the `cursor` was altered, or belongs to another user, filter or sort."


class InvalidIdempotencyKey(InvalidInput):
    error_code = "INVALID_IDEMPOTENCY_KEY"
    detail = (
        "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is best), "
        "optionally in double quotes, and sent once"
    )
    description = "the `Idempotency-Key` header is empty, too long, repeated or has bad characters."


class InvalidIfMatch(InvalidInput):
    error_code = "INVALID_IF_MATCH"
    detail = (
        'If-Match must be * or the task\'s ETag exactly as sent, in double quotes ("6", not 6); '
        "several are separated by commas"
    )
    description = '`If-Match` is neither `*` nor a list of quoted entity tags (`6` for `"6"`).'


class InvalidSyncToken(InvalidInput):
    error_code = "INVALID_SYNC_TOKEN"
    detail = "`since` is not a sync token this API gave out to you"
    description = "`since` (or `Last-Event-ID`) is not a sync token of the caller's."


class InvalidListId(InvalidInput):
    error_code = "INVALID_LIST_ID"
    detail = "This list id names none of your lists"
    description = (
        "a list id in the body or query (`list_id`, `move_to`, `before`, `after`) names no list "
        "of the caller's: missing or another user's, alike; nothing was written."
    )


class ParentNotFound(InvalidInput):
    error_code = "PARENT_NOT_FOUND"
    detail = "parent_id names no task of yours"
    description = (
        "`parent_id` names no task of the caller's (none, or another user's: the same answer)."
    )


class ParentIsSelf(InvalidInput):
    error_code = "PARENT_IS_SELF"
    detail = "A task cannot be its own parent"
    description = "`parent_id` is the task's own id."


class ParentInSubtree(InvalidInput):
    error_code = "PARENT_IN_SUBTREE"
    detail = "The new parent is one of this task's own subtasks: that would make a cycle"
    description = "a move under one of the task's own descendants (a cycle); nothing moved."


class DepthLimitExceeded(InvalidInput):
    error_code = "DEPTH_LIMIT_EXCEEDED"
    detail = "Subtasks would nest deeper than this server allows"
    description = "the task (with its subtree) would sit deeper than `MAX_TASK_DEPTH` levels."


class AnchorNotSibling(InvalidInput):
    error_code = "ANCHOR_NOT_SIBLING"
    detail = "`after`/`before` must name another task in the target list under the target parent"
    description = (
        "a move's `after`/`before` names no other task of the caller's in the target list under "
        "the target parent."
    )


class SubtaskListMismatch(InvalidInput):
    error_code = "SUBTASK_LIST_MISMATCH"
    detail = "A subtask is in its parent's list: this list_id is not the parent's"
    description = (
        "a subtask would sit in another list than its parent's (`list_id` on create, update or "
        "move); nothing was written. Move the parent to move the subtree, or take the task out "
        "from under its parent (`parent_id: null`) first."
    )


class InvalidRecurrence(InvalidInput):
    error_code = "INVALID_RECURRENCE"
    detail = "Invalid recurrence"
    description = (
        "a `recurrence` this task's due cannot carry (no due, UNTIL in the wrong form, an "
        "hourly rule on an all-day due, a rule that yields no occurrence): the detail names "
        "the part."
    )


class InvalidReminders(InvalidInput):
    error_code = "INVALID_REMINDERS"
    detail = "Invalid reminders"
    description = "a relative reminder (`before`) on a task without a timed due (`due_at`)."


class TaskNotRecurring(InvalidInput):
    error_code = "TASK_NOT_RECURRING"
    detail = "The task has no recurrence"
    description = "`skip` of a task without a `recurrence`."


class AuthError(ApiError):
    """Any 401. `reason` is for the log only; the client sees `detail`."""

    status_code = 401
    summary = "Missing, invalid or expired bearer token"

    def __init__(self, detail: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason or self.detail

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class NotAuthenticated(AuthError):
    error_code = "NOT_AUTHENTICATED"
    detail = "Missing bearer token: send 'Authorization: Bearer <token>'"
    description = "no `Authorization: Bearer` header."


class InvalidToken(AuthError):
    error_code = "INVALID_TOKEN"
    detail = "Invalid bearer token"
    description = "bad signature, algorithm, claims or format."


class TokenExpired(AuthError):
    error_code = "TOKEN_EXPIRED"
    detail = "Bearer token has expired"
    description = "the token's `exp` has passed."


class InsufficientScope(ApiError):
    """The MCP endpoint's 403 (RFC 6750 3.1): the token is valid but lacks the scope the
    request needs; `WWW-Authenticate` names it, so a client can ask for it (step-up)."""

    status_code = 403
    error_code = "INSUFFICIENT_SCOPE"
    detail = "The token lacks the scope this needs"
    description = "(MCP only) the token lacks the scope a tool needs; `WWW-Authenticate` names it."
    summary = "The token lacks a scope"

    def __init__(self, scope: str, challenge: str) -> None:
        super().__init__(f"The token lacks the scope {scope!r}, which this needs")
        self.challenge = challenge

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.challenge}


class ResourceForbidden(ApiError):
    """A 403 for a resource of another user's: a subclass sets `resource` and its code, and
    the texts follow (`class ListForbidden(ResourceForbidden)`, resource "list")."""

    status_code = 403
    resource: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        cls.detail = f"This {cls.resource} belongs to another user"
        cls.description = f"the {cls.resource} belongs to another user."
        cls.summary = f"The {cls.resource} belongs to another user"
        super().__init_subclass__(**kwargs)


class ResourceNotFound(ApiError):
    """A 404 for a resource named by its id: a subclass sets `resource` and its code, and the
    texts follow. Ids are UUIDs; one that is not answers `NOT_A_UUID` as its detail."""

    status_code = 404
    resource: ClassVar[str]
    NOT_A_UUID: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        name = cls.resource.capitalize()
        cls.detail = f"{name} not found"
        cls.description = f"no {cls.resource} with this id, or the id is not a UUID."
        cls.summary = f"No such {cls.resource}, or the id is not a UUID"
        cls.NOT_A_UUID = (
            f"{name} not found: the id is not a UUID (8-4-4-4-12 hex digits, as "
            "00000000-0000-4000-8000-000000000000)"
        )
        super().__init_subclass__(**kwargs)


class TaskForbidden(ResourceForbidden):
    resource = "task"
    error_code = "TASK_FORBIDDEN"


class TaskNotFound(ResourceNotFound):
    resource = "task"
    error_code = "TASK_NOT_FOUND"


class ListForbidden(ResourceForbidden):
    resource = "list"
    error_code = "LIST_FORBIDDEN"


class ListNotFound(ResourceNotFound):
    resource = "list"
    error_code = "LIST_NOT_FOUND"


class RouteNotFound(ApiError):
    status_code = 404
    error_code = "NOT_FOUND"
    detail = "Not found"
    description = "no such path."


class MethodNotAllowed(ApiError):
    status_code = 405
    error_code = "METHOD_NOT_ALLOWED"
    detail = "Method not allowed"
    description = "the path exists, the method does not."


class SyncTokenExpired(ApiError):
    status_code = 410
    error_code = "SYNC_TOKEN_EXPIRED"
    detail = (
        "This sync token is older than the deletions kept on record: "
        "sync again from scratch (without `since`)"
    )
    description = "the token predates the tombstones kept (or this database): resync from scratch."
    summary = "The token predates the deletions kept: resync from scratch"


class PreconditionFailed(ApiError):
    """`If-Match` names no version of the task as stored: the client's copy is stale."""

    status_code = 412
    error_code = "PRECONDITION_FAILED"
    detail = "The task has changed since you read it (If-Match does not match its ETag)"
    description = "`If-Match` does not match the task's current `ETag`; nothing was written."
    summary = "The task has changed since the client read it"

    def __init__(self, etag: str = '"0"', *, weak_only: bool = False) -> None:
        # A weak tag can never match (If-Match compares strongly): say that, not "changed".
        super().__init__(self.WEAK_DETAIL if weak_only else None)
        self.etag = etag

    WEAK_DETAIL = (
        'If-Match needs the strong tag exactly as in the ETag header ("6"): a weak tag (W/"6") '
        "never matches, so nothing was written"
    )

    @property
    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag}


class ListPreconditionFailed(PreconditionFailed):
    """The same code, about a list (no `error_code` of its own: not a new entry)."""

    detail = "The list has changed since you read it (If-Match does not match its ETag)"


class PayloadTooLarge(ApiError):
    status_code = 413
    error_code = "PAYLOAD_TOO_LARGE"
    detail = "Request body is too large"
    description = "the body exceeds the size limit."
    summary = "The body is larger than the configured limit"


class UnsupportedMediaType(ApiError):
    status_code = 415
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    detail = "Send the body as JSON, with 'Content-Type: application/json'"
    description = "a body without `Content-Type: application/json`."
    summary = "The body is not labelled as JSON"

    @classmethod
    def of(cls, content_type: bytes | None) -> "UnsupportedMediaType":
        if content_type is None:
            return cls(
                "The body has no Content-Type: send JSON, with 'Content-Type: application/json'"
            )
        received = content_type.decode("latin-1")[:100]
        return cls(
            f"Content-Type {received!r} is not supported: send JSON, with "
            "'Content-Type: application/json'"
        )


class RequestTimeout(ApiError):
    status_code = 408
    error_code = "REQUEST_TIMEOUT"
    detail = "The request was not received in time"
    description = (
        "the request's head or body did not arrive within `HEADER_TIMEOUT_SECONDS` / "
        "`BODY_TIMEOUT_SECONDS`; the connection is closed."
    )


class UriTooLong(ApiError):
    status_code = 414
    error_code = "URI_TOO_LONG"
    detail = "The URL is too long"
    description = "the URL is longer than `MAX_URL_BYTES`; the connection is closed."


class HeadersTooLarge(ApiError):
    status_code = 431
    error_code = "HEADERS_TOO_LARGE"
    detail = "The request headers are too large"
    description = (
        "the request line and headers exceed `MAX_REQUEST_HEAD_BYTES`; the connection is closed."
    )


class RateLimited(ApiError):
    """The caller (or, without a valid token, the client address) used up its quota. The
    headers follow draft-ietf-httpapi-ratelimit-headers-10."""

    status_code = 429
    error_code = "RATE_LIMITED"
    detail = "Too many requests; retry after the number of seconds in Retry-After"
    description = "too many requests from this user or address; retry after `Retry-After` seconds."
    summary = "Too many requests"

    def __init__(
        self, rate_limit_headers: Mapping[str, str] | None = None, *, retry_after: int = 1
    ):
        super().__init__()
        self.retry_after_seconds = max(1, retry_after)
        self.rate_limit_headers = dict(rate_limit_headers or {})

    @property
    def headers(self) -> dict[str, str]:
        return {**super().headers, **self.rate_limit_headers}


class TaskQuotaExceeded(ApiError):
    status_code = 409
    error_code = "TASK_QUOTA_EXCEEDED"
    detail = "You have as many tasks as this server allows: delete some to create more"
    description = "the caller already has `MAX_TASKS_PER_USER` tasks; nothing was created."
    summary = "The caller's task quota is used up"


class ListQuotaExceeded(ApiError):
    status_code = 409
    error_code = "LIST_QUOTA_EXCEEDED"
    detail = "You have as many lists as this server allows: delete some to create more"
    description = "the caller already has `MAX_LISTS_PER_USER` lists; nothing was created."
    summary = "The caller's list quota is used up"


class ListFull(ApiError):
    status_code = 409
    error_code = "LIST_FULL"
    detail = "That list holds as many tasks as this server allows: nothing was written"
    description = (
        "the target list would hold more than `MAX_TASKS_PER_LIST` tasks; nothing was written."
    )
    summary = "The list holds as many tasks as allowed"


class ListNotEmpty(ApiError):
    status_code = 409
    error_code = "LIST_NOT_EMPTY"
    detail = (
        "This list has tasks: delete it with ?tasks=delete (its tasks go too) or "
        "?move_to=<list id> (they move there)"
    )
    description = (
        "the list has tasks and the DELETE said neither `tasks=delete` nor `move_to`; nothing "
        "was deleted."
    )
    summary = "The list has tasks"


class WebhookForbidden(ResourceForbidden):
    resource = "webhook"
    error_code = "WEBHOOK_FORBIDDEN"


class WebhookNotFound(ResourceNotFound):
    resource = "webhook"
    error_code = "WEBHOOK_NOT_FOUND"


class DeliveryNotFound(ResourceNotFound):
    resource = "delivery"
    error_code = "DELIVERY_NOT_FOUND"


class WebhookUrlRefused(InvalidInput):
    error_code = "WEBHOOK_URL_REFUSED"
    detail = "This URL cannot receive webhooks"
    description = (
        "the webhook URL is not http(s), or its host resolves to a loopback, private, "
        "link-local or cloud-metadata address (or to nothing); nothing was written."
    )


class WebhookQuotaExceeded(ApiError):
    status_code = 409
    error_code = "WEBHOOK_QUOTA_EXCEEDED"
    detail = "You have as many webhooks as this server allows: delete some to create more"
    description = "the caller already has `MAX_WEBHOOKS_PER_USER` webhooks; nothing was created."
    summary = "The caller's webhook quota is used up"


class SubtaskLimitReached(ApiError):
    status_code = 409
    error_code = "SUBTASK_LIMIT_REACHED"
    detail = "This task has as many subtasks as this server allows"
    description = "the parent already has `MAX_SUBTASKS_PER_PARENT` subtasks; nothing was written."


class PositionKeyTooLong(ApiError):
    status_code = 409
    error_code = "POSITION_KEY_TOO_LONG"
    detail = "No room left between these two tasks: move one of them first or last, then try again"
    description = (
        "the key between the two neighbours would pass `POSITION_KEY_MAX_LENGTH`; nothing moved."
    )


class IdempotencyKeyReused(ApiError):
    status_code = 422
    error_code = "IDEMPOTENCY_KEY_REUSED"
    detail = "This Idempotency-Key was already used with a different request body"
    description = "the `Idempotency-Key` was used before with a different body; use a new key."
    summary = "The Idempotency-Key was used with a different body"


class TooManyStreams(ApiError):
    """Any 429: an event stream past a limit. Close a stream (or wait) and retry."""

    status_code = 429
    summary = "Too many open event streams"
    retry_after_seconds = 5


class UserStreamLimit(TooManyStreams):
    error_code = "TOO_MANY_STREAMS"
    detail = "You have too many event streams open: close one first"
    description = "the caller already holds `SSE_MAX_STREAMS_PER_USER` event streams."


class ServerStreamLimit(TooManyStreams):
    error_code = "STREAM_CAPACITY_REACHED"
    detail = "This server holds as many event streams as it can; retry later"
    description = "the server already holds `SSE_MAX_STREAMS` event streams; retry later."


class ServiceUnavailable(ApiError):
    """Any 503: something we depend on cannot be reached; retrying later can succeed, and
    `Retry-After` says when."""

    status_code = 503
    retry_after_seconds = 1


class AuthUnavailable(ServiceUnavailable):
    error_code = "AUTH_UNAVAILABLE"
    detail = "Cannot verify tokens right now: the signing keys are unavailable"
    description = "the token signing keys cannot be fetched."

    def __init__(self, detail: str | None = None, *, retry_after_seconds: float = 1) -> None:
        super().__init__(detail)
        # When the next fetch of the keys may happen: retrying sooner cannot succeed.
        self.retry_after_seconds = max(1, math.ceil(retry_after_seconds))


class DatabaseUnavailable(ServiceUnavailable):
    error_code = "DATABASE_UNAVAILABLE"
    detail = "The database is unavailable; try again shortly"
    description = "the database is unreachable or did not answer in time; retry shortly."
    summary = "The database is unreachable; retry shortly"
    retry_after_seconds = 2


class DatabaseBusy(DatabaseUnavailable):
    """The database is up, but every connection this server may open is in use."""

    error_code = "DATABASE_BUSY"
    detail = "The database is busy; try again shortly"
    description = "every database connection is in use; retry after `Retry-After` seconds."
    retry_after_seconds = 1


class ServerBusy(ServiceUnavailable):
    """Refused at connect: a flood of open sockets must not use up every file descriptor."""

    error_code = "SERVER_BUSY"
    detail = "The server has too many open connections; try again shortly"
    description = "the server holds `MAX_CONNECTIONS` open connections; the new one is closed."
    retry_after_seconds = 1


class ServerRestarting(ServiceUnavailable):
    """Ends an event stream when its server process shuts down (a deploy, a restart)."""

    error_code = "SERVER_RESTARTING"
    detail = "The server is restarting; reconnect with Last-Event-ID"
    description = "(event streams only, in `event: close`) the server process is shutting down."


class InternalError(ApiError):
    status_code = 500
    error_code = "INTERNAL_ERROR"
    detail = "Internal server error"
    description = "a bug on our side."
    summary = "A bug on our side"


def _error_code_enum() -> type[StrEnum]:
    enum = StrEnum(  # type: ignore[misc]
        "ErrorCode", [(error.error_code, error.error_code) for error in ApiError.registry]
    )
    enum.__doc__ = (
        "Stable, documented machine-readable codes. Never rename one: clients branch on them."
    )
    return enum


if TYPE_CHECKING:  # built at run time from the registry; to the type checker, some StrEnum
    ErrorCode = StrEnum
else:
    ErrorCode = _error_code_enum()

ERROR_CODE_DESCRIPTION = (
    "Stable machine-readable code: branch on this, not on `detail`.\n\n"
    + "".join(
        f"- `{error.error_code}` ({error.status_code}): {error.description}\n"
        for error in ApiError.registry
    )
)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="What went wrong, in a sentence a person can act on.")
    error_code: ErrorCode = Field(description=ERROR_CODE_DESCRIPTION)
    status_code: int = Field(description="The HTTP status code, repeated.")


def envelope(
    status_code: int, error_code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"detail": detail, "error_code": error_code, "status_code": status_code}
    return JSONResponse(body, status_code=status_code, headers=headers)


def error_response(error: ApiError) -> JSONResponse:
    return envelope(error.status_code, error.error_code, error.detail, error.headers)
