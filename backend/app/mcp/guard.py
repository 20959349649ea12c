"""In front of the MCP transport: the rate limit per user, the bearer token (verified like the
REST API's, and bound to MCP_RESOURCE_URL), and the scope a request needs. A refusal is an
HTTP answer with a `WWW-Authenticate` challenge that points at the protected-resource metadata
(RFC 9728 5.1), so a client knows where to get a token."""

import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.authenticate import authenticate
from app.auth.principal import Principal
from app.config import Settings
from app.errors import (
    ApiError,
    AuthError,
    InsufficientScope,
    MethodNotAllowed,
    NotAuthenticated,
    envelope,
)
from app.errors import error_response as error_answer
from app.http.middleware import count_request, refusal
from app.mcp.metadata import metadata_url
from app.mcp.tools import WRITE_TOOLS
from app.state import app_state

auth_log = logging.getLogger("taskapi.auth")


class McpGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        assert settings.mcp_resource_url is not None
        self.app = app
        self.resource_metadata = metadata_url(settings.mcp_resource_url)
        self.read_scope = settings.mcp_read_scope
        self.write_scope = settings.mcp_write_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            # Stateless: no stream to open with GET (it would hold a connection for nothing,
            # with no message ever to send) and no session to DELETE.
            await _only_post(scope, receive, send)
            return
        state = app_state(scope["app"])
        verifier = state.mcp_verifier
        assert verifier is not None
        limiter = state.rate_limiter
        if limiter is not None:
            decision, identity = await count_request(limiter, verifier, scope)
            if decision is not None and not decision.allowed:
                error = await refusal(limiter, decision, identity)
                await error_answer(error)(scope, receive, send)
                return
        try:
            principal = await authenticate(scope, verifier)
        except AuthError as error:
            client = scope["client"][0] if scope.get("client") else "-"
            auth_log.warning("MCP authentication failed: %s (from %s)", error.reason, client)
            await self._unauthorized(error)(scope, receive, send)
            return
        except ApiError as error:  # the signing keys cannot be fetched: 503
            await error_answer(error)(scope, receive, send)
            return
        if self.read_scope or self.write_scope:
            body = await _body(receive)
            needed = self._scope_needed(body, principal)
            if needed is not None:
                challenge = (
                    f'Bearer error="insufficient_scope", scope="{needed}", '
                    f'resource_metadata="{self.resource_metadata}"'
                )
                await error_answer(InsufficientScope(needed, challenge))(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _unauthorized(self, error: AuthError) -> ASGIApp:
        challenge = f'Bearer resource_metadata="{self.resource_metadata}"'
        if not isinstance(error, NotAuthenticated):  # RFC 6750 3.1: a code when a token came
            challenge = (
                f'Bearer error="invalid_token", resource_metadata="{self.resource_metadata}"'
            )
        headers = {"WWW-Authenticate": challenge}
        return envelope(error.status_code, error.error_code, error.detail, headers)

    def _scope_needed(self, body: bytes, principal: Principal) -> str | None:
        """The scope the request needs and the token lacks, if any: a write tool's call needs
        the write scope, a read tool's the read scope; anything else (initialize, the tool
        list) needs either of them."""
        held = principal.scopes
        name = _called_tool(body)
        if name is None:
            ours = [scope for scope in (self.read_scope, self.write_scope) if scope]
            return None if any(scope in held for scope in ours) else ours[0]
        needed = self.write_scope if name in WRITE_TOOLS else self.read_scope
        return needed if needed is not None and needed not in held else None


async def _only_post(scope: Scope, receive: Receive, send: Send) -> None:
    error = MethodNotAllowed("Only POST: this MCP endpoint is stateless, without streams")
    answer = envelope(error.status_code, error.error_code, error.detail, {"Allow": "POST"})
    await answer(scope, receive, send)


def _called_tool(body: bytes) -> str | None:
    """The tool a JSON-RPC `tools/call` names; None for any other message (or no JSON: the
    transport answers that itself)."""
    try:
        message = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else ""


async def _body(receive: Receive) -> bytes:
    """The whole request body (app.http.middleware.BodySizeLimit has capped its size)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
