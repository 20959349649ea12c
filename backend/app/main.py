"""The application factory. Nothing heavy happens at import time."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api.routes import changes, events, health, tasks
from app.config import Settings
from app.core.jwks import open_key_set
from app.core.security import TokenVerifier
from app.database import Database
from app.errors import install_error_handlers
from app.middleware import BodySizeLimit, SecurityHeaders
from app.migrate import prepare_schema
from app.openapi import install_openapi, operation_id
from app.state import AppState, set_app_state
from app.sync.etags import SYNC_REQUEST_HEADERS, SYNC_RESPONSE_HEADERS
from app.sync.listener import listening
from app.sync.retention import purging_in_background

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
a malformed task id answers 404, like a missing one.

**Sync.** Tasks carry an `etag` (`If-Match` on PUT/DELETE answers 412 when stale,
`If-None-Match` on GET 304); POST takes an `Idempotency-Key`; `/api/tasks/changes` returns what
changed since a token, deletions included; `/api/tasks/events` streams changes live (SSE).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings)
        try:
            await prepare_schema(database.transactional, migrate=settings.migrate_on_start)
            async with (
                open_key_set(settings) as jwks,
                purging_in_background(database, settings),
                listening(settings, database.feed),
            ):
                set_app_state(app, AppState(settings, database, TokenVerifier(settings, jwks)))
                yield
        finally:
            await database.dispose()

    app = FastAPI(
        title="taskapi",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    install_error_handlers(app)
    install_openapi(app)
    # Before tasks: /api/tasks/changes must not be taken for /api/tasks/{task_id}.
    app.include_router(changes.router)
    app.include_router(events.router)
    app.include_router(tasks.router)
    app.include_router(health.router)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                *SYNC_REQUEST_HEADERS,
            ],
            expose_headers=["Link", *SYNC_RESPONSE_HEADERS],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    return app
