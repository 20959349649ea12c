"""The OpenAPI document as the API really behaves: 400 (never 422) for validation errors,
and every error response a route can give, with the envelope and an example."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.config import Settings
from app.errors import (
    ApiError,
    DatabaseUnavailable,
    ErrorResponse,
    NotAuthenticated,
    PayloadTooLarge,
    TaskForbidden,
    TaskNotFound,
    ValidationFailed,
)

_DEFAULT_MAX_BODY_BYTES = Settings.model_fields["max_body_bytes"].default

# What each status means, and a real error of that status as the example.
_ERRORS: dict[int, tuple[str, ApiError]] = {
    400: (
        "Invalid input: `VALIDATION_ERROR`, or `MALFORMED_JSON` for a body that is not JSON.",
        ValidationFailed("title: String should have at least 1 character"),
    ),
    401: (
        "Missing, invalid or expired bearer token: "
        "`NOT_AUTHENTICATED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`.",
        NotAuthenticated(),
    ),
    403: ("The task belongs to another user: `TASK_FORBIDDEN`.", TaskForbidden()),
    404: ("No such task, or the id is not a UUID: `TASK_NOT_FOUND`.", TaskNotFound()),
    413: (
        "The body is larger than the configured limit: `PAYLOAD_TOO_LARGE`.",
        PayloadTooLarge(f"Request body is larger than {_DEFAULT_MAX_BODY_BYTES} bytes"),
    ),
    503: (
        "The database, or the token signing keys (JWKS), cannot be reached; retry shortly: "
        "`DATABASE_UNAVAILABLE` or `AUTH_UNAVAILABLE`.",
        DatabaseUnavailable(),
    ),
}
DATABASE_DOWN = (
    "The database is unreachable; retry shortly: `DATABASE_UNAVAILABLE`.",
    DatabaseUnavailable(),
)

_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "Always `Bearer`.",
        "required": True,
        "schema": {"type": "string"},
    }
}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "With `AUTH_UNAVAILABLE`: seconds until the signing keys may be fetched "
        "again.",
        "required": False,
        "schema": {"type": "integer"},
    }
}


def error_responses(
    *status_codes: int, overrides: dict[int, tuple[str, ApiError]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it can fail with, as the error envelope.

    `overrides` gives a status a description and example of its own for this route.
    """
    errors = {**_ERRORS, **(overrides or {})}
    responses: dict[int | str, dict[str, Any]] = {}
    for status_code in status_codes:
        description, error = errors[status_code]
        example = ErrorResponse(
            detail=error.detail, error_code=error.error_code, status_code=error.status_code
        )
        responses[status_code] = {
            "model": ErrorResponse,
            "description": description,
            "content": {"application/json": {"example": example.model_dump(mode="json")}},
        }
        if status_code == 401:
            responses[status_code]["headers"] = _WWW_AUTHENTICATE
        if status_code == 503:
            responses[status_code]["headers"] = _RETRY_AFTER
    return responses


def operation_id(route: APIRoute) -> str:
    return route.name


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema["paths"].values():
                for operation in path.values():
                    operation["responses"].pop("422", None)
            schemas = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
