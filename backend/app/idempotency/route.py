"""`@idempotent`: `Idempotency-Key` for a route, in one line under its `@router.post(...)`.

The decorated function runs after FastAPI has authenticated the caller and validated the
body, so those errors come first, as on any route. With the header, the route's writes join
the transaction that claims the key (`Database.unit_of_work`), and its response (status,
headers, body) is stored there, byte for byte; a retry gets it back with
`Idempotency-Replayed: true`. Without the header the route runs as if undecorated."""

import functools
import inspect
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import Request, Response

from app.auth.dependencies import CurrentUserId
from app.http.conditional import idempotency_key
from app.http.dependencies import database_of, settings_of
from app.idempotency.service import IdempotentRequest, StoredResponse, respond_once

Endpoint = Callable[..., Awaitable[Response]]

# What the wrapper needs from FastAPI, taken from the route's own parameters when it has them
# (no second resolution on the route's path), else added under these names.
_NEEDED = {
    "_idempotency_request": Request,
    "_idempotency_owner": CurrentUserId,
}


def idempotent(endpoint: Endpoint) -> Endpoint:
    """Makes `endpoint` (which returns a `Response`) idempotent under `Idempotency-Key`."""
    signature = inspect.signature(endpoint)
    returns = signature.return_annotation
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        raise TypeError(f"{endpoint.__qualname__} must return a Response to be replayed")
    own = signature.parameters
    names = {
        needed: next((name for name, p in own.items() if p.annotation == kind), needed)
        for needed, kind in _NEEDED.items()
    }
    added = [
        inspect.Parameter(needed, inspect.Parameter.KEYWORD_ONLY, annotation=_NEEDED[needed])
        for needed, name in names.items()
        if name == needed
    ]
    request_name, owner_name = names.values()

    @functools.wraps(endpoint)
    async def idempotent_endpoint(**arguments: Any) -> Response:
        request: Request = arguments[request_name]
        key = idempotency_key(request)
        if added:
            arguments_of_endpoint = {name: arguments[name] for name in own}
        else:
            arguments_of_endpoint = arguments
        if key is None:
            return await endpoint(**arguments_of_endpoint)

        first: Response | None = None

        async def respond() -> StoredResponse:
            nonlocal first
            first = await endpoint(**arguments_of_endpoint)
            return _stored(first)

        settings = settings_of(request)
        stored, replayed = await respond_once(
            database_of(request),
            IdempotentRequest(
                owner=arguments[owner_name],
                key=key,
                route=f"{request.method} {request.url.path}",
                raw_body=await request.body(),
            ),
            timedelta(seconds=settings.idempotency_key_retention_seconds),
            respond,
        )
        return _replayed(stored) if replayed or first is None else first

    idempotent_endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own.values(), *added]
    )
    return idempotent_endpoint


def _stored(response: Response) -> StoredResponse:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):  # a streamed body cannot be stored
        raise TypeError("an idempotent route returns its body whole")
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers
    ]
    return StoredResponse(response.status_code, headers, body)


def _replayed(stored: StoredResponse) -> Response:
    response = Response(stored.body, stored.status_code)
    response.raw_headers = [
        *((name.encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers),
        (b"idempotency-replayed", b"true"),
    ]
    return response
