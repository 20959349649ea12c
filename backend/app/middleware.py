"""Pure ASGI middleware: a body size cap (and one JSON rule), and headers every response
should carry."""

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge, ValidationFailed, error_response

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # Task data is per-user: no shared cache may keep it.
    (b"cache-control", b"no-store"),
]


class BodySizeLimit:
    """Answers 413 before the app runs when a body exceeds the limit.

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
        declared = dict(scope["headers"]).get(b"content-length")
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
