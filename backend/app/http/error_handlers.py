"""Every exception a request can raise, answered with the error envelope: the API's own errors,
FastAPI's validation errors, Starlette's HTTP errors (405 with a full `Allow`), an unavailable
database (503) and bugs (500, logged)."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from app.db.errors import is_database_unavailable
from app.errors import (
    ApiError,
    DatabaseBusy,
    DatabaseUnavailable,
    InternalError,
    MalformedJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    ValidationFailed,
    envelope,
    error_response,
)

logger = logging.getLogger("taskapi.errors")


# Errors Starlette raises itself (as HTTPException), by status.
_FRAMEWORK_ERRORS: dict[int, type[ApiError]] = {
    # FastAPI's only 400: a body it could not parse (nested too deeply, not UTF-8).
    error.status_code: error
    for error in (MalformedJson, RouteNotFound, MethodNotAllowed, PayloadTooLarge)
}


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> ApiError:
    """One sentence a person can act on: which field, what rule."""
    if any(error["type"] == "json_invalid" for error in errors):
        return MalformedJson()
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
    return ValidationFailed("; ".join(messages))


def _http_exception_response(exc: StarletteHTTPException) -> JSONResponse:
    known = _FRAMEWORK_ERRORS.get(exc.status_code)
    if known is not None:
        # A 404's detail would only echo Starlette's wording; ours is the documented one.
        usable = isinstance(exc.detail, str) and exc.status_code != 404
        detail = exc.detail if usable else known.detail
        return envelope(exc.status_code, known.error_code, detail, exc.headers)
    code = InternalError.error_code if exc.status_code >= 500 else ValidationFailed.error_code
    detail = exc.detail if isinstance(exc.detail, str) else "Bad request"
    return envelope(exc.status_code, code, detail, exc.headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(describe_validation_errors(exc.errors()))


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": allowed}
    return _http_exception_response(exc)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers on this path. Starlette's `Allow` names only those of
    the first route that matches the path (`GET` for /api/tasks, which has POST too). Asks
    each route whether it would take the request with another method, so routers included
    in any way are covered. Only a 405 pays for this."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    if "GET" in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")  # app.http.middleware.HeadAsGet
    return ", ".join(allowed)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_database_unavailable(exc):
        return await _unexpected(request, exc)
    logger.error("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    busy = isinstance(exc, PoolTimeout)
    return error_response(DatabaseBusy() if busy else DatabaseUnavailable())


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    logger.error("unhandled error on %s %s", method, path, exc_info=exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log_unexpected(request.method, request.url.path, exc)
    return error_response(InternalError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    # Connection-level failures only: a bad statement is a bug and stays a logged 500.
    for exc_type in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(exc_type, _database_error)
    app.add_exception_handler(Exception, _unexpected)
