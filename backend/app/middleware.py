"""Pure ASGI middleware: request body rules (size, JSON only, no repeated keys), HEAD as GET,
a 500 that still passes through CORS, and headers every response should carry."""

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    InternalError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    error_response,
    log_unexpected,
)

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # Task data is per-user: no shared cache may keep it.
    (b"cache-control", b"no-store"),
]


_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


class BodySizeLimit:
    """Answers 413 before the app runs when a body exceeds the limit, and 415 when a body
    is not labelled JSON (what `fetch` sends for a plain string: `text/plain`).

    Checks Content-Length up front and, for chunked bodies, buffers at most `max_bytes`. Having
    the whole body, it also refuses a JSON object with a repeated key (400): parsers keep the
    last one silently, so what a proxy or a log saw could differ from what was stored (RFC 7493).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type")
        if body and scope["method"] in _METHODS_WITH_BODY and not _is_json(content_type):
            await error_response(UnsupportedMediaType.of(content_type))(scope, receive, send)
            return
        repeated = _repeated_key(body) if body else None
        if repeated is not None:
            error = ValidationFailed(f"{repeated}: the key appears more than once in the body")
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"Request body is larger than {self.max_bytes} bytes")
        await error_response(error)(scope, receive, send)


class _RepeatedKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:  # linear: a hostile body may hold thousands of keys
        if key in seen:
            raise _RepeatedKey(key)
        seen.add(key)
    return dict(pairs)


def _repeated_key(body: bytes) -> str | None:
    """The first key repeated within one JSON object of `body`, if any. A body that is not JSON
    is left to the app, which refuses it with its own error."""
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except _RepeatedKey as repeated:
        return str(repeated.args[0])
    except (ValueError, RecursionError):
        pass
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD answered by the GET route of the same path, with its headers and no body: every
    GET route gets HEAD (uptime checks use it), including routes added later."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})

        # A copy: the server reads its own scope's method to know that no body follows.
        await self.app({**scope, "method": "GET"}, receive, send_without_body)


class UnhandledErrors:
    """A bug becomes the 500 envelope here, inside the CORS and security-header middleware.
    (Starlette's own catch-all runs outside every middleware: its 500 would reach a browser
    as a CORS failure, without `nosniff` or `no-store`.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking_start)
        except Exception as exc:
            if started:  # too late for an error response: the server closes the connection
                raise
            log_unexpected(scope["method"], scope["path"], exc)
            await error_response(InternalError())(scope, receive, send)
