"""/api/tasks/events: the caller's changes as Server-Sent Events. Registered before
/api/tasks/{task_id}.

Each change is an event whose `id` is a sync token: a client that reconnects with
`Last-Event-ID` gets what it missed through the same delta logic as /api/tasks/changes.
"""

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.auth.dependencies import CurrentPrincipal
from app.auth.principal import Principal
from app.config import Settings
from app.db.database import Database
from app.db.errors import unavailability_cause
from app.db.feed import Subscription
from app.errors import (
    ApiError,
    AuthError,
    DatabaseUnavailable,
    InvalidInput,
    RateLimited,
    ServerRestarting,
    ServiceUnavailable,
    SyncTokenExpired,
    TokenExpired,
    TooManyStreams,
)
from app.http.dependencies import database_of, settings_of
from app.http.openapi import error_responses
from app.http.responses import json_bytes
from app.kit.pagination import DEFAULT_PAGE_SIZE
from app.state import app_state
from app.sync.service import Change, changes_since, stream_start
from app.sync.tokens import MAX_TOKEN_LENGTH, seq_of, token_of

logger = logging.getLogger("taskapi.sync")
router = APIRouter(prefix="/api/tasks", tags=["sync"])
# Every entity type (tasks and lists); /api/tasks/events stays tasks only, as it always was.
everything = APIRouter(prefix="/api", tags=["sync"])

_STREAM_DESCRIPTION = """\
`text/event-stream`. First `event: ready` (its `id` is the token the stream starts from), then
one event per change, oldest first: `created` or `updated` (data: the task, as GET returns it)
and `deleted` (data: `{"id": ...}`), and `reminder.fired` (data: `{"task", "reminder"}`), each
with the sync token as its `id`. A comment line
(`: heartbeat`) every `SSE_HEARTBEAT_SECONDS`. When the bearer token expires, or the stream
cannot go on, `event: close` (data: `{"error_code", "detail"}`) ends it: reconnect with a fresh
token and `Last-Event-ID`. A server shutting down ends every stream with `close`
(`SERVER_RESTARTING`): reconnect at once with `Last-Event-ID`."""


class EventStream(StreamingResponse):
    """Releases its subscription however the response ends, and drops a client that takes no
    bytes for `send_timeout` seconds (so a stalled reader holds neither memory nor a slot)."""

    media_type = "text/event-stream"

    def __init__(
        self, body: AsyncIterator[bytes], subscription: Subscription, send_timeout: float
    ) -> None:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        super().__init__(body, headers=headers)
        self._subscription = subscription
        self._send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_or_give_up(message: Message) -> None:
            async with asyncio.timeout(self._send_timeout):
                await send(message)

        try:
            await super().__call__(scope, receive, send_or_give_up)
        except TimeoutError:
            logger.info("dropped an event stream whose client stopped reading")
        finally:
            self._subscription.close()


_ALL_STREAM_DESCRIPTION = """\
`text/event-stream`, as `/api/tasks/events` but with every entity type, each event named
`<type>.<kind>`: `task.created`, `task.updated`, `task.deleted`, `list.created`,
`list.updated`, `list.deleted` (data: the task or list as GET returns it, or `{"id": ...}` for a
deletion), and `reminder.fired` (data: `{"task", "reminder"}`); `ready`, `close` and heartbeats
as there. The same sync tokens."""
_STREAM_ERRORS = error_responses(
    InvalidInput,
    AuthError,
    SyncTokenExpired,
    RateLimited,
    TooManyStreams,
    ServiceUnavailable,
    descriptions={
        429: "Too many requests (`RATE_LIMITED`), or too many open event streams: "
        "`TOO_MANY_STREAMS` (this user) or `STREAM_CAPACITY_REACHED` (this server); retry "
        "after `Retry-After` seconds."
    },
)


@router.get(
    "/events",
    response_class=EventStream,
    status_code=200,
    response_description=_STREAM_DESCRIPTION,
    responses=_STREAM_ERRORS,
)
async def stream_events(
    request: Request,
    principal: CurrentPrincipal,
    since: Annotated[
        str | None,
        Query(max_length=MAX_TOKEN_LENGTH, description="Start after this sync token."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=MAX_TOKEN_LENGTH,
            description="Resume after this event (wins over `since`).",
        ),
    ] = None,
) -> EventStream:
    """Stream the caller's changes live; without a token, from now on.

    The response never ends (Server-Sent Events): Swagger UI's "Try it out" waits for an end
    and shows nothing. Use `EventSource`, or `curl -N -H "Authorization: Bearer $TOKEN"
    .../api/tasks/events`."""
    database = database_of(request)
    settings = settings_of(request)
    return await _stream(request, principal, database, settings, last_event_id or since, False)


@everything.get(
    "/events",
    response_class=EventStream,
    status_code=200,
    response_description=_ALL_STREAM_DESCRIPTION,
    responses=_STREAM_ERRORS,
)
async def stream_all_events(
    request: Request,
    principal: CurrentPrincipal,
    since: Annotated[
        str | None,
        Query(max_length=MAX_TOKEN_LENGTH, description="Start after this sync token."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=MAX_TOKEN_LENGTH,
            description="Resume after this event (wins over `since`).",
        ),
    ] = None,
) -> EventStream:
    """Stream the caller's changes of tasks and lists live; without a token, from now on.

    Never ends (Server-Sent Events): use `EventSource`, or `curl -N`."""
    database = database_of(request)
    settings = settings_of(request)
    return await _stream(request, principal, database, settings, last_event_id or since, True)


async def _stream(
    request: Request,
    principal: Principal,
    database: Database,
    settings: Settings,
    token: str | None,
    with_lists: bool,
) -> EventStream:
    user_id = principal.user_id
    start = await stream_start(database, user_id, None if token is None else seq_of(token, user_id))
    subscription = app_state(request.app).feed.subscribe(user_id)
    # When the bearer token stops being accepted, as the verifier judges it: exp plus the leeway.
    deadline = principal.expires_at + settings.jwt_leeway_seconds
    heartbeat = settings.sse_heartbeat_seconds
    body = _events(database, user_id, start, subscription, deadline, heartbeat, with_lists)
    return EventStream(body, subscription, settings.sse_send_timeout_seconds)


async def _events(
    database: Database,
    owner: str,
    since: int,
    subscription: Subscription,
    deadline: float,
    heartbeat_seconds: float,
    with_lists: bool = False,
) -> AsyncIterator[bytes]:
    start = token_of(since, owner)
    yield _event("ready", {"next_token": start}, start)
    try:
        while True:
            has_more = True
            while has_more:
                result = await changes_since(
                    database, owner, since, DEFAULT_PAGE_SIZE, with_lists=with_lists
                )
                for change in result.changes:
                    yield _change_event(change, owner, typed=with_lists)
                since, has_more = result.seq, result.has_more
            remaining = deadline - time.time()
            if remaining <= 0:
                yield _close(TokenExpired())
                return
            woken = await subscription.wait(min(heartbeat_seconds, remaining))
            if subscription.server_closing:
                yield _close(ServerRestarting())
                return
            if not woken:
                yield b": heartbeat\n\n"
    except ApiError as error:  # e.g. the token's tombstones purged meanwhile: 410
        yield _close(error)
    except Exception as error:
        # Classified by cause as requests are: a refused connection is a bare OSError, not a
        # DBAPIError. Anything else is a bug and propagates (logged with its traceback).
        cause = unavailability_cause(error)
        if cause is None:
            raise
        _stream_failures.log(cause)
        yield _close(DatabaseUnavailable())


class _OncePerCause:
    """An outage ends every open stream at once: one log line per cause and interval, with
    how many streams it ended, instead of one per stream."""

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._last_logged: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}

    def log(self, cause: str) -> None:
        now = time.monotonic()
        if now - self._last_logged.get(cause, -math.inf) < self._interval:
            self._unlogged[cause] = self._unlogged.get(cause, 0) + 1
            return
        self._last_logged[cause] = now
        also = self._unlogged.pop(cause, 0)
        logger.warning(
            "event streams ended: database unavailable (%s)%s",
            cause,
            f"; {also} more since the last report" if also else "",
        )


_stream_failures = _OncePerCause(interval_seconds=60)


def _change_event(change: Change, owner: str, *, typed: bool = False) -> bytes:
    """`created`, `updated`, `deleted`; with `typed`, `<type>.<kind>` (`list.updated`)."""
    token = token_of(change.seq, owner)
    if change.reminder is not None:  # the same name on both streams
        return _event("reminder.fired", {"task": change.task, "reminder": change.reminder}, token)
    prefix = f"{change.entity_type}." if typed else ""
    entity = change.task if change.task is not None else change.list
    if entity is None:
        return _event(prefix + "deleted", {"id": change.task_id}, token)
    # An entity never changed since it was created has its creation time as last update.
    created = entity["created_at"] == entity["updated_at"]
    return _event(prefix + ("created" if created else "updated"), entity, token)


def _close(error: ApiError) -> bytes:
    return _event("close", {"error_code": error.error_code, "detail": error.detail})


def _event(name: str, data: object, event_id: str | None = None) -> bytes:
    id_line = b"" if event_id is None else f"id: {event_id}\n".encode()
    return b"event: " + name.encode() + b"\n" + id_line + b"data: " + json_bytes(data) + b"\n\n"
