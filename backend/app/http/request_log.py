"""Request ids, and one JSON log line per request.

Every response carries `X-Request-ID`: the client's own, when it is a plausible id (1-128
characters of letters, digits and `._~:+/=-`), else a fresh one. With ACCESS_LOG on, each request
also leaves one line, written when the app has finished with it, whatever happened to the
client: a DELETE whose client hung up is still executed, and still logged. Every taskapi log
line written during the request carries the same id.
"""

import itertools
import logging
import os
import re
import time
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.authenticate import principal_of
from app.errors import InternalError, error_response

logger = logging.getLogger("taskapi.request")

_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._~:+/=-]{1,128}")
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name == b"x-request-id":
            if _VALID_REQUEST_ID.fullmatch(value):
                return value
            break
    return _new_request_id()


# A random prefix per process and a counter: unique across workers and restarts, and no
# system call per request (os.urandom per request cost ~5% of a GET's CPU here).
_PROCESS_PREFIX = os.urandom(8).hex()
_serial = itertools.count(1)


def _new_request_id() -> bytes:
    return f"{_PROCESS_PREFIX}{next(_serial):016x}".encode()


def route_of(scope: Scope) -> str | None:
    """The matched route's template (`/api/tasks/{task_id}`), never the raw path: bounded, and
    free of whatever a client put in the URL."""
    route = scope.get("route")
    # path_format: without convertors (`{task_id}`, not `{task_id:task_id}`).
    if isinstance(route, BaseRoute) and hasattr(route, "path_format"):
        return str(route.path_format)
    return None


class RequestLog:
    def __init__(self, app: ASGIApp, *, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope["headers"])
        status = 500  # unless the app starts a response: what escapes it is a 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        token: Token[str | None] | None = current_request_id.set(request_id.decode())
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # A bug: Starlette's outermost middleware logs it and would answer 500 without our
            # headers; answering here first keeps X-Request-ID on this response too, and the
            # id stays set (the request's task ends soon) so the error's log line carries it.
            if not started:
                await error_response(InternalError())(scope, receive, send_with_id)
            token = None
            raise
        finally:
            if self.log_requests:
                principal = principal_of(scope)
                fields = {
                    "method": scope["method"],
                    "route": route_of(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 2),
                    "user_id": principal.user_id if principal else None,
                    "client": scope["client"][0] if scope.get("client") else None,
                }
                logger.info("request", extra={"fields": fields})
            if token is not None:
                current_request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id when there is
    one, and the record's `fields` (the request log's). Never a header, so never a token."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()
