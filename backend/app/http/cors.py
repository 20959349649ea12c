"""Cross-origin access for browser frontends: which headers a page may send and read."""

import logging

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

logger = logging.getLogger("taskapi")

ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]
# What a frontend sends: the token, JSON, tracing (W3C, Sentry), and conditional or
# idempotent writes. A header missing here fails the preflight as "Failed to fetch".
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    "traceparent",
    "tracestate",
    "sentry-trace",
    "baggage",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Last-Event-ID",
    "MCP-Protocol-Version",  # MCP clients in a browser (app.mcp)
]
# What page scripts may read; any other header reads as null there.
EXPOSED_HEADERS = [
    "Link",
    "Retry-After",
    "WWW-Authenticate",
    "X-Request-ID",
    "ETag",
    "Location",
    "RateLimit",
    "RateLimit-Policy",
    "Idempotency-Replayed",
]
# Browsers cap this anyway (Chromium at 2 hours).
PREFLIGHT_MAX_AGE_SECONDS = 600


def cors(app: ASGIApp, allow_origins: list[str]) -> ASGIApp:
    """`app` answering CORS for `allow_origins`, or `app` itself (and a log line) when none."""
    if not allow_origins:
        logger.warning(
            "CORS is off: no CORS_ALLOW_ORIGINS set, so browser pages on other origins "
            "cannot call this API"
        )
        return app
    logger.info("CORS allows %s", ", ".join(allow_origins))
    return CORSMiddleware(
        app,
        allow_origins=allow_origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
