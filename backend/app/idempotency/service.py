"""Idempotent creation (the IETF httpapi draft "The Idempotency-Key HTTP Header Field"): the
first request with a key does the work and stores its response in the same transaction; a
retry with the same key and body gets that response back; another body is refused (422).

Two requests with one key at once: the second one's claim waits for the first's commit (the
unique key), then replays its response. Never two tasks."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from app.db.database import Database
from app.errors import IdempotencyKeyReused
from app.http.responses import json_bytes
from app.idempotency import repository as keys
from app.tasks.schemas import TaskCreate
from app.tasks.service import insert_new_task


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    replayed: bool


async def create_task_once(
    database: Database,
    owner: str,
    key: str,
    raw_body: bytes,
    data: TaskCreate,
    retention: timedelta,
    max_tasks: int,
) -> StoredResponse:
    """The response of the first request with `key`: made now, or replayed."""
    fingerprint = hashlib.sha256(raw_body).digest()
    now = database.clock()
    async with database.write(owner, several_statements=True) as connection:
        if not await keys.claim(connection, owner, key, fingerprint, now, now - retention):
            previous = await keys.stored(connection, owner, key)
            if previous.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            return StoredResponse(previous.status_code, previous.body, replayed=True)
        task = await insert_new_task(connection, owner, data, now, max_tasks)
        body = json_bytes(task)
        await keys.store(connection, owner, key, 201, body)
    return StoredResponse(201, body, replayed=False)
