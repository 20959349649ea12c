"""Typed API errors and the one place that turns every failure into the JSON envelope.

Every error response is `{"detail": str, "error_code": ErrorCode, "status_code": int}`.
"""

import logging
import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("taskapi.errors")


class ErrorCode(StrEnum):
    """Stable, documented machine-readable codes. Never rename one: clients branch on them."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    MALFORMED_JSON = "MALFORMED_JSON"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TASK_FORBIDDEN = "TASK_FORBIDDEN"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    AUTH_UNAVAILABLE = "AUTH_UNAVAILABLE"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


_ERROR_CODE_DESCRIPTION = """\
Stable machine-readable code: branch on this, not on `detail`.

- `VALIDATION_ERROR` (400): a field, query parameter or body breaks a rule.
- `MALFORMED_JSON` (400): the body is not valid JSON.
- `NOT_AUTHENTICATED` (401): no `Authorization: Bearer` header.
- `INVALID_TOKEN` (401): bad signature, algorithm, claims or format.
- `TOKEN_EXPIRED` (401): the token's `exp` has passed.
- `TASK_FORBIDDEN` (403): the task belongs to another user.
- `TASK_NOT_FOUND` (404): no task with this id, or the id is not a UUID.
- `NOT_FOUND` (404): no such path.
- `METHOD_NOT_ALLOWED` (405): the path exists, the method does not.
- `PAYLOAD_TOO_LARGE` (413): the body exceeds the size limit.
- `AUTH_UNAVAILABLE` (503): the token signing keys cannot be fetched.
- `DATABASE_UNAVAILABLE` (503): the database is unreachable; retry shortly.
- `INTERNAL_ERROR` (500): a bug on our side.
"""


class ErrorResponse(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="What went wrong, in a sentence a person can act on.")
    error_code: ErrorCode = Field(description=_ERROR_CODE_DESCRIPTION)
    status_code: int = Field(description="The HTTP status code, repeated.")


class ApiError(Exception):
    status_code: int = 500
    error_code: ErrorCode = ErrorCode.INTERNAL_ERROR
    detail: str = "Internal server error"

    def __init__(self, detail: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)

    @property
    def headers(self) -> dict[str, str] | None:
        return None


class ValidationFailed(ApiError):
    status_code = 400
    error_code = ErrorCode.VALIDATION_ERROR
    detail = "Invalid request"


class AuthError(ApiError):
    """Any 401. `reason` is for the log only; the client sees `detail`."""

    status_code = 401

    def __init__(self, detail: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason or self.detail

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class NotAuthenticated(AuthError):
    error_code = ErrorCode.NOT_AUTHENTICATED
    detail = "Missing bearer token: send 'Authorization: Bearer <token>'"


class InvalidToken(AuthError):
    error_code = ErrorCode.INVALID_TOKEN
    detail = "Invalid bearer token"


class TokenExpired(AuthError):
    error_code = ErrorCode.TOKEN_EXPIRED
    detail = "Bearer token has expired"


class TaskForbidden(ApiError):
    status_code = 403
    error_code = ErrorCode.TASK_FORBIDDEN
    detail = "This task belongs to another user"


class TaskNotFound(ApiError):
    status_code = 404
    error_code = ErrorCode.TASK_NOT_FOUND
    detail = "Task not found"


class PayloadTooLarge(ApiError):
    status_code = 413
    error_code = ErrorCode.PAYLOAD_TOO_LARGE
    detail = "Request body is too large"


class AuthUnavailable(ApiError):
    status_code = 503
    error_code = ErrorCode.AUTH_UNAVAILABLE
    detail = "Cannot verify tokens right now: the signing keys are unavailable"

    def __init__(self, detail: str | None = None, *, retry_after_seconds: float = 1) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after_seconds))

    @property
    def headers(self) -> dict[str, str]:
        # When the next fetch of the keys may happen: retrying sooner cannot succeed.
        return {"Retry-After": str(self.retry_after)}


class DatabaseUnavailable(ApiError):
    status_code = 503
    error_code = ErrorCode.DATABASE_UNAVAILABLE
    detail = "The database is unavailable; try again shortly"


_HTTP_STATUS_CODES = {
    # FastAPI's only 400: a body it could not parse (nested too deeply, not UTF-8).
    400: (ErrorCode.MALFORMED_JSON, "Request body is not valid JSON"),
    404: (ErrorCode.NOT_FOUND, "Not found"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed"),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "Request body is too large"),
}


def error_response(
    status_code: int, error_code: ErrorCode, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(detail=detail, error_code=error_code, status_code=status_code)
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def describe_validation_errors(errors: list[dict[str, Any]]) -> tuple[ErrorCode, str]:
    """One sentence a person can act on: which field, what rule."""
    if any(error["type"] == "json_invalid" for error in errors):
        return ErrorCode.MALFORMED_JSON, "Request body is not valid JSON"
    messages = []
    for error in errors:
        loc = [str(part) for part in error["loc"] if part != "body"]
        field = ".".join(loc)
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing" and not field:
            message = "a JSON object is required"
        else:
            message = error["msg"].removeprefix("Value error, ")
        messages.append(f"{field}: {message}" if field else message[:1].upper() + message[1:])
    return ErrorCode.VALIDATION_ERROR, "; ".join(messages)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.error_code, exc.detail, exc.headers)


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, detail = describe_validation_errors(list(exc.errors()))
    return error_response(400, code, detail)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, default_detail = _HTTP_STATUS_CODES.get(
        exc.status_code, (ErrorCode.VALIDATION_ERROR, "Bad request")
    )
    if exc.status_code >= 500:
        code = ErrorCode.INTERNAL_ERROR
    detail = (
        exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else default_detail
    )
    return error_response(exc.status_code, code, detail, exc.headers)


async def _database_unreachable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    error = DatabaseUnavailable()
    return error_response(error.status_code, error.error_code, error.detail)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, ErrorCode.INTERNAL_ERROR, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    # Connection-level failures only: a bad statement is a bug and stays a logged 500.
    for exc_type in (OperationalError, InterfaceError, PoolTimeout, ConnectionError):
        app.add_exception_handler(exc_type, _database_unreachable)
    app.add_exception_handler(Exception, _unexpected)
