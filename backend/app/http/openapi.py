"""The OpenAPI document as the API really behaves: 400 (never 422) for validation errors,
and every error response a route can give, with the envelope and an example."""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.config import Settings
from app.errors import (
    ApiError,
    AuthError,
    DatabaseUnavailable,
    ErrorResponse,
    InternalError,
    InvalidInput,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    TooManyStreams,
    UnsupportedMediaType,
    UriTooLong,
    ValidationFailed,
)

_DEFAULT_MAX_BODY_BYTES = Settings.model_fields["max_body_bytes"].default

# A real error of the family as the example, where the class default says too little.
_EXAMPLES: dict[type[ApiError], ApiError] = {
    InvalidInput: ValidationFailed("title: String should have at least 1 character"),
    PayloadTooLarge: PayloadTooLarge(
        f"Request body is larger than {_DEFAULT_MAX_BODY_BYTES} bytes"
    ),
    ServiceUnavailable: DatabaseUnavailable(),
}
# Families whose codes need more words than "summary: `A`, `B` or `C`."
_DESCRIPTIONS: dict[type[ApiError], str] = {
    InvalidInput: "Invalid input: `VALIDATION_ERROR`, `MALFORMED_JSON` for a body that is not "
    "JSON, (lists only) `INVALID_CURSOR` for a cursor that was altered or belongs to another "
    "user or query, `INVALID_IDEMPOTENCY_KEY` for a bad `Idempotency-Key`, `INVALID_IF_MATCH` "
    "for an `If-Match` that is not `*` or quoted tags, `INVALID_SYNC_TOKEN` for a bad sync token, "
    "`INVALID_LIST_ID` for a list id that names none of the caller's lists; (subtasks, moves) "
    "`PARENT_NOT_FOUND`, `PARENT_IS_SELF`, `PARENT_IN_SUBTREE`, "
    "`DEPTH_LIMIT_EXCEEDED`, `ANCHOR_NOT_SIBLING`, `SUBTASK_LIST_MISMATCH`; (webhooks) "
    "`WEBHOOK_URL_REFUSED` for a URL that is not http(s) or points to a private address; "
    "(recurrence, reminders) `INVALID_RECURRENCE`, `INVALID_REMINDERS`, `TASK_NOT_RECURRING`.",
    ServiceUnavailable: "The database, or the token signing keys (JWKS), cannot be reached, or "
    "every database connection (or the server's connection limit) is in use; retry after "
    "`Retry-After` seconds: `DATABASE_UNAVAILABLE`, `DATABASE_BUSY`, `AUTH_UNAVAILABLE` or "
    "`SERVER_BUSY` (`SERVER_RESTARTING` only ends an event stream, in its `close` event).",
}
_HEADERS: dict[type[ApiError], dict[str, Any]] = {
    AuthError: {
        "WWW-Authenticate": {
            "description": "Always `Bearer`.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    RateLimited: {
        "Retry-After": {
            "description": "Seconds until the caller's quota starts again.",
            "required": True,
            "schema": {"type": "integer"},
        },
        "RateLimit-Policy": {
            "description": "The quota (draft-ietf-httpapi-ratelimit-headers-10), e.g. "
            '`"user";q=3000;w=60`: 3000 requests per 60 s per user (`"address"`: per client '
            "address, for requests without a valid token). Also on successful responses.",
            "required": True,
            "schema": {"type": "string"},
        },
        "RateLimit": {
            "description": 'What is left, e.g. `"user";r=0;t=42`: no requests left, the window '
            "starts again in 42 s. Successful responses carry it too, without `t`.",
            "required": True,
            "schema": {"type": "string"},
        },
    },
    TooManyStreams: {
        "Retry-After": {
            "description": "Seconds to wait before opening a stream again.",
            "required": True,
            "schema": {"type": "integer"},
        }
    },
    ServiceUnavailable: {
        "Retry-After": {
            "description": "Seconds to wait before retrying; with `AUTH_UNAVAILABLE`, until the "
            "signing keys may be fetched again.",
            "required": True,
            "schema": {"type": "integer"},
        }
    },
}


def error_responses(
    *errors: type[ApiError] | ApiError, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error it can fail with (a class, a family, or an
    instance as a route-specific example), as the envelope with a description and an example.

    `descriptions` replaces the derived description of a status for this route.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        family = error if isinstance(error, type) else type(error)
        example = error if isinstance(error, ApiError) else _EXAMPLES.get(family)
        if example is None:
            example = family.members()[0]()
        responses[family.status_code] = {
            "model": ErrorResponse,
            "description": (descriptions or {}).get(family.status_code) or describe(family),
            "content": {
                "application/json": {
                    "example": {
                        "detail": example.detail,
                        "error_code": example.error_code,
                        "status_code": example.status_code,
                    }
                }
            },
        }
        headers = next((h for base, h in _HEADERS.items() if issubclass(family, base)), None)
        if headers is not None:
            responses[family.status_code]["headers"] = headers
    return responses


def describe(family: type[ApiError]) -> str:
    """ "Summary: `CODE_A`, `CODE_B` or `CODE_C`." from the family, unless it has its own words."""
    if family in _DESCRIPTIONS:
        return _DESCRIPTIONS[family]
    codes = [f"`{member.error_code}`" for member in family.members()]
    listed = codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} or {codes[-1]}"
    return f"{family.summary}: {listed}."


def operation_id(route: APIRoute) -> str:
    return route.name


# Declared once with a line each, so linters (Spectral's operation-tag-defined) and doc
# viewers know every tag the operations use.
TAGS = [
    {"name": "tasks", "description": "The caller's tasks: create, list, read, change, delete."},
    {
        "name": "sync",
        "description": "Catch-up (`changes`) and live (`events`) for offline clients.",
    },
    {"name": "tags", "description": "The caller's tags, with how many tasks carry each."},
    {"name": "lists", "description": "The caller's lists of tasks, in the caller's own order."},
    {
        "name": "webhooks",
        "description": "The caller's webhooks: signed deliveries of their changes to their URLs.",
    },
    {"name": "health", "description": "Liveness and readiness, for load balancers; no token."},
]
CONTACT = {"name": "taskapi maintainers"}

# Where the API is: the origin the document was fetched from (no host is baked in).
SERVERS = [{"url": "/", "description": "This API's own origin."}]


def _envelope(error: type[ApiError]) -> dict[str, Any]:
    """An error response as it appears in the document (`error_responses` gives FastAPI's
    route form of the same)."""
    return {
        "description": describe(error),
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                "example": {
                    "detail": error.detail,
                    "error_code": error.error_code,
                    "status_code": error.status_code,
                },
            }
        },
    }


def _complete(operation: dict[str, Any]) -> None:
    """What holds for every operation, including routes added later: no 422, a 500 can
    happen, a body must be JSON (415), a URL can be too long (414), and a route without a
    token says so (`security: []`)."""
    responses = operation["responses"]
    # FastAPI's own 422 (validation, which answers 400 here); not a 422 of ours.
    if "HTTPValidationError" in str(responses.get("422")):
        del responses["422"]
    if "requestBody" in operation:
        responses.setdefault("415", _envelope(UnsupportedMediaType))
    # The server refuses an over-long URL before any route runs, whatever the path.
    responses.setdefault("414", _envelope(UriTooLong))
    responses.setdefault("500", _envelope(InternalError))
    operation["responses"] = dict(sorted(responses.items()))
    operation.setdefault("security", [])


def _errors_are_json(responses: dict[str, Any]) -> None:
    """FastAPI files an error's model under the route's media type; for the event stream that
    is text/event-stream, but errors are always the JSON envelope."""
    for code, response in responses.items():
        content = response.get("content", {})
        if int(code) < 400 or "schema" in content.get("application/json", {"schema": None}):
            continue
        schemas = [body["schema"] for body in content.values() if "schema" in body]
        json_body = content.setdefault("application/json", {})
        json_body["schema"] = schemas[0]
        response["content"] = {"application/json": json_body}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                servers=SERVERS,
                license_info={"name": "MIT", "identifier": "MIT"},
                contact=CONTACT,
                tags=TAGS,
            )
            for path in schema["paths"].values():
                for operation in path.values():
                    _complete(operation)
                    _errors_are_json(operation["responses"])
            schemas = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
