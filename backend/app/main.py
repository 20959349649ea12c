"""The application factory. Nothing heavy happens at import time."""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from app.auth.jwks import open_key_set
from app.auth.verifier import TokenVerifier
from app.clock import Clock, system_clock
from app.config import Settings
from app.db.database import Database
from app.db.feed import ChangeFeed
from app.db.listener import listening
from app.db.migrate import prepare_schema
from app.health import endpoints as health
from app.http.cors import cors
from app.http.docs import install_docs
from app.http.error_handlers import install_error_handlers
from app.http.metrics import METRICS_PATH, install_metrics
from app.http.middleware import (
    BodySizeLimit,
    HeadAsGet,
    RateLimit,
    SecurityHeaders,
    UnhandledErrors,
)
from app.http.openapi import install_openapi, operation_id
from app.http.rate_limiter import open_rate_limiter
from app.http.request_log import RequestLog
from app.http.server import on_shutdown
from app.jobs import open_job_runner
from app.lists import endpoints as lists
from app.state import AppState, set_app_state
from app.sync import changes_endpoints as changes
from app.sync import events_endpoints as events
from app.tags import endpoints as tags
from app.tasks import endpoints as tasks
from app.tasks import recurring_endpoints as recurring_tasks
from app.tasks import tree_endpoints as task_tree
from app.webhooks import endpoints as webhooks

if TYPE_CHECKING:
    from app.mcp.server import McpEndpoint

logger = logging.getLogger("taskapi")

DESCRIPTION = """\
A multi-user task API.

**Authentication.** Every `/api/tasks` request carries `Authorization: Bearer <JWT>`: a token
issued by Better Auth's `jwt` plugin and verified with the public keys of its JWKS endpoint
(EdDSA, ES256, ES512, RS256, PS256), or signed with the shared `BETTER_AUTH_SECRET` (HS256 by
default), as the server is configured. It must have an `exp`; the user id is its `sub` claim.
That user is the caller, who can only see and change their own tasks: another user's task
answers 403. A missing, invalid or expired token answers 401 with `WWW-Authenticate: Bearer`;
signing keys that cannot be fetched, 503. In development, `taskapi token --user NAME` mints one.
`/health` needs no token.

**Errors** are always `{"detail", "error_code", "status_code"}`; `error_code` values are stable
(see `ErrorResponse`). Invalid input answers 400 (the one 422 is a reused `Idempotency-Key`);
a malformed task id answers 404, like a missing one. A body must be JSON sent as
`Content-Type: application/json` (else 415). A method a path does not have answers 405 with
`Allow`; `HEAD` works wherever `GET` does.

**Browsers** on the origins in `CORS_ALLOW_ORIGINS` may call the API and read `Link`,
`Retry-After`, `WWW-Authenticate`, `ETag` and the other headers below. A relative `Link`
resolves against the response's URL.

**Sync.** Tasks carry an `etag` (`If-Match` on PUT/DELETE answers 412 when stale,
`If-None-Match` on GET 304); POST takes an `Idempotency-Key`; `/api/tasks/changes` returns what
changed since a token, deletions included; `/api/tasks/events` streams changes live (SSE).
"""


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The app. `clock` is its "now" (tests pass one they control)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed = ChangeFeed(settings.sse_max_streams_per_user, settings.stream_limit)
        database = Database(settings, clock, after_write=feed.written)
        try:
            await prepare_schema(database.transactional, migrate=settings.migrate_on_start)
            async with (
                open_key_set(settings) as jwks,
                open_rate_limiter(settings) as limiter,
                # The worker runs here unless JOBS_IN_PROCESS is off (`taskapi worker` runs it).
                open_job_runner(settings, database, work=settings.jobs_in_process) as jobs,
                listening(settings, feed),
                AsyncExitStack() as mcp_running,
            ):
                if settings.cursor_secret is None and settings.better_auth_secret is None:
                    logger.warning(
                        "no CURSOR_SECRET: list cursors are signed with a key of this process, "
                        "so another replica or a restart answers them with INVALID_CURSOR"
                    )
                verifier = TokenVerifier(settings, jwks)
                mcp_verifier = mcp.verifier(settings, jwks) if mcp is not None else None
                state = AppState(settings, database, verifier, feed, limiter, jobs, mcp_verifier)
                set_app_state(app, state)
                if mcp is not None:
                    await mcp_running.enter_async_context(mcp.running())
                # SIGTERM: streams end at once with a `close` event, before uvicorn waits.
                forget = on_shutdown(feed.end_all)
                try:
                    yield
                finally:
                    forget()
        finally:
            await database.dispose()

    app = FastAPI(
        title="taskapi",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.api_docs else None,
        # No redirect from `/api/tasks/` to `/api/tasks`: Starlette builds its Location from
        # the Host header, which the client chooses. A trailing slash is a 404 like any path.
        redirect_slashes=False,
    )
    install_error_handlers(app)
    install_openapi(app)
    # Routes are matched in order, one after another: the busiest first. (`{task_id}` never
    # takes `changes` or `events`: app.tasks.dependencies.TaskIdSegment.)
    app.include_router(tasks.router)
    app.include_router(task_tree.router)
    app.include_router(recurring_tasks.router)
    app.include_router(changes.router)
    app.include_router(events.router)
    app.include_router(tags.router)
    app.include_router(lists.router)
    app.include_router(webhooks.router)
    app.include_router(changes.everything)
    app.include_router(events.everything)
    app.include_router(health.router)
    mcp = _install_mcp(app, settings)  # after every /api route
    if settings.api_docs:
        install_docs(app)

    # Innermost first: each add_middleware wraps the ones before it. A response made at any
    # level below, a 500 included, passes through CORS and SecurityHeaders.
    app.add_middleware(UnhandledErrors)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.rate_limit != "off" or settings.rate_limit_anonymous != "off":
        # /mcp counts its requests itself, per user (app.mcp.guard).
        exempt = health.PROBE_PATHS | {METRICS_PATH, *([mcp.path] if mcp else [])}
        app.add_middleware(RateLimit, exempt_paths=exempt)
    app.add_middleware(cors, allow_origins=settings.cors_allow_origins)
    app.add_middleware(SecurityHeaders)
    install_metrics(app, settings)
    app.add_middleware(RequestLog, log_requests=settings.access_log)
    return app


def _install_mcp(app: FastAPI, settings: Settings) -> "McpEndpoint | None":
    """/mcp when MCP_RESOURCE_URL is set; the MCP SDK is not even imported otherwise."""
    if settings.mcp_resource_url is None:
        return None
    from app.mcp.server import install_mcp

    return install_mcp(app, settings)
