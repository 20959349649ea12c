"""Idempotent requests (the IETF httpapi draft "The Idempotency-Key HTTP Header Field"): the
first request with a key does the work and stores its response in the same transaction; a
retry with the same key, route and body gets that response back; another route or body is
refused (422).

Two requests with one key at once: the second one's claim waits for the first's commit (the
unique key), then replays its response. Never two writes."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import orjson

from app.db.database import Database
from app.errors import IdempotencyKeyReused
from app.idempotency import repository as keys


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """Who asks what, under which key: the owner comes from a verified token."""

    owner: str
    key: str
    route: str
    raw_body: bytes


async def respond_once(
    database: Database,
    request: IdempotentRequest,
    retention: timedelta,
    respond: Callable[[], Awaitable[StoredResponse]],
) -> tuple[StoredResponse, bool]:
    """The response of the first request with the key, and whether it is replayed. `respond`
    runs only for the first, and its writes join the transaction that claims the key and
    stores the response: if it raises, neither its writes nor the key remain."""
    fingerprint = hashlib.sha256(request.raw_body).digest()
    now = database.clock()
    owner, key = request.owner, request.key
    async with database.unit_of_work(owner) as connection:
        claimed = await keys.claim(
            connection, owner, key, fingerprint, request.route, now, now - retention
        )
        if not claimed:
            previous = await keys.stored(connection, owner, key)
            if (previous.fingerprint, previous.route) != (fingerprint, request.route):
                raise IdempotencyKeyReused()
            headers = [(name, value) for name, value in orjson.loads(previous.headers)]
            return StoredResponse(previous.status_code, headers, previous.body), True
        response = await respond()
        stored_headers = orjson.dumps(response.headers)
        await keys.store(
            connection, owner, key, response.status_code, stored_headers, response.body
        )
    return response, False
