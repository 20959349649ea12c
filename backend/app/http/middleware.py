"""Pure ASGI middleware: request body rules (size, JSON only, no repeated keys), HEAD as GET,
a 500 that still passes through CORS, headers every response should carry, and rate limits."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.authenticate import authenticate
from app.auth.verifier import TokenVerifier
from app.errors import (
    ApiError,
    InternalError,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
    error_response,
)
from app.http.error_handlers import log_unexpected
from app.http.rate_limiter import Decision, RateLimiter
from app.kit.unique_keys import RepeatedKey, loads_unique
from app.state import app_state

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
        if declared is None and b"transfer-encoding" not in headers:
            # No body (HTTP/1.1 frames one only with either header): most GETs and DELETEs
            # go straight through, without reading and replaying an empty body.
            await self.app(scope, receive, send)
            return
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


def _repeated_key(body: bytes) -> str | None:
    """The first key repeated within one JSON object of `body`, if any. A body that is not JSON
    is left to the app, which refuses it with its own error."""
    try:
        loads_unique(body)
    except RepeatedKey as repeated:
        return repeated.key
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
                headers = message.get("headers", [])
                # A response that sets one itself (the event stream's no-store) keeps its own:
                # the same header twice is what a proxy may join or reject.
                present = {name.lower() for name, _ in headers}
                missing = [header for header in _SECURITY_HEADERS if header[0] not in present]
                message["headers"] = [*headers, *missing]
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
                return
            await send({"type": "http.response.body", "body": b""})
            if message.get("more_body", False):
                # A stream (the event stream never ends): the headers are the whole answer.
                raise _HeadAnswered

        # A copy: the server reads its own scope's method to know that no body follows.
        try:
            await self.app({**scope, "method": "GET"}, receive, send_without_body)
        except _HeadAnswered:
            pass


class _HeadAnswered(Exception):
    """Stops a streaming GET that answers a HEAD, once its headers are sent."""


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


class RateLimit:
    """Pure ASGI: counts each request against its caller before anything else runs (the body is
    not even read), and answers 429 past the quota. Operators' probes are never limited."""

    def __init__(self, app: ASGIApp, exempt_paths: frozenset[str]) -> None:
        self.app = app
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        state = app_state(scope["app"])
        limiter = state.rate_limiter
        decision, identity = (
            await count_request(limiter, state.token_verifier, scope) if limiter else (None, "")
        )
        if decision is None:
            await self.app(scope, receive, send)
        elif not decision.allowed:
            assert limiter is not None
            error = await refusal(limiter, decision, identity)
            await error_response(error)(scope, receive, send)
        else:
            quota = decision.fields()

            async def send_with_quota(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), *quota]
                await send(message)

            await self.app(scope, receive, send_with_quota)


async def refusal(limiter: RateLimiter, decision: Decision, identity: str) -> RateLimited:
    """The 429 for a caller past its quota, with the RateLimit fields and Retry-After."""
    reset_in = await limiter.reset_in(decision, identity)
    fields = {name.decode(): value.decode() for name, value in decision.fields(reset_in)}
    return RateLimited(fields, retry_after=reset_in)


async def count_request(
    limiter: RateLimiter, verifier: TokenVerifier, scope: Scope
) -> tuple[Decision | None, str]:
    """The decision for this request and whom it counted against. The principal (or the
    refusal) stays in the scope: the route's dependency reads it instead of verifying again.
    (The MCP endpoint counts its requests here too, with its own verifier: app.mcp.guard.)"""
    try:
        # Verified even from an address past its quota: refusing unverified tokens there would
        # let a few bad requests lock out every valid user behind the same address (a NAT, a
        # proxy). A signature check costs less than that; only tokens that fail count below.
        user = (await authenticate(scope, verifier)).user_id
    except ApiError:  # no token, refused, or keys unavailable: the route's own check says why
        address = scope["client"][0] if scope.get("client") else "-"
        if limiter.address is None:
            return None, address
        return await limiter.hit(limiter.address, address), address
    return (await limiter.hit(limiter.user, user) if limiter.user else None), user
