"""Due deliveries claimed by a worker, and each attempt's outcome written back.

A claim moves `next_attempt_at` to the end of a lease in the claim's own transaction (SKIP
LOCKED on PostgreSQL: two workers never claim the same delivery). A worker killed mid-attempt
never writes its outcome: the delivery is due again when the lease ends and is sent again,
with the same `webhook-id`. An outcome is written only by the claim that holds the delivery
(`attempts` still the claim's number)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.db.sequenced import append_events, event_row, take_counter_lock, take_seqs
from app.models.base import UTCDateTime
from app.webhooks.repository import ATTEMPTS, DELIVERIES, ENDPOINTS, D, E


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    user_id: str
    attempt: int  # this attempt's number, from 1
    body: str
    url: str
    secrets: tuple[str, ...]  # the current secret, then the previous one during the overlap


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None  # the HTTP status; None: no response
    duration_ms: int
    error: str | None = None
    retry_after: float | None = None  # seconds, from the response's Retry-After

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _taking(skip_locked: bool) -> Any:
    """The claim: up to `limit` due deliveries, at most `per_endpoint` of each endpoint, none of
    the endpoints in `busy`; built once per database (a statement built per call costs its
    cache key, on every poll)."""
    ready = and_(
        D.status == "pending",
        D.next_attempt_at <= bindparam("now", type_=UTCDateTime()),
        or_(E.enabled, D.event_type == "webhook.ping"),
        D.endpoint_id.not_in(bindparam("busy", expanding=True)),
    )
    rank = func.row_number().over(partition_by=D.endpoint_id, order_by=D.next_attempt_at)
    ranked = (
        select(D.id, rank.label("rank"))
        .join(ENDPOINTS, E.id == D.endpoint_id)
        .where(ready)
        .order_by(D.next_attempt_at)
        .subquery()
    )
    due = select(ranked.c.id).where(ranked.c.rank <= bindparam("per_endpoint", type_=Integer()))
    # Oldest first: with more endpoints due than free slots, none keeps losing its turn.
    chosen = (
        select(D.id)
        .where(D.id.in_(due))
        .order_by(D.next_attempt_at)
        .limit(bindparam("limit", type_=Integer()))
    )
    if skip_locked:
        chosen = chosen.with_for_update(skip_locked=True)
    return (
        update(DELIVERIES)
        .where(D.id.in_(chosen.scalar_subquery()))
        .values(
            attempts=D.attempts + 1, next_attempt_at=bindparam("lease_end", type_=UTCDateTime())
        )
        .returning(D.id, D.endpoint_id, D.user_id, D.attempts, D.body)
    )


_TAKING = {"postgresql": _taking(skip_locked=True), "sqlite": _taking(skip_locked=False)}


async def claim(
    database: Database,
    *,
    limit: int,
    per_endpoint: int,
    lease_seconds: float,
    busy: list[uuid.UUID],
) -> list[Claimed]:
    now = database.clock()
    parameters = {
        "now": now,
        "lease_end": now + timedelta(seconds=lease_seconds),
        "busy": busy,
        "per_endpoint": per_endpoint,
        "limit": limit,
    }
    taking = _TAKING["sqlite" if database.is_sqlite else "postgresql"]
    async with database.transaction() as connection:
        taken = (await connection.execute(taking, parameters)).all()
        if not taken:
            return []
        targets = await _targets(connection, {row.endpoint_id for row in taken}, now)
    return [
        Claimed(
            row.id, row.endpoint_id, row.user_id, row.attempts, row.body, *targets[row.endpoint_id]
        )
        for row in taken
    ]


async def _targets(
    connection: AsyncConnection, ids: set[uuid.UUID], now: datetime
) -> dict[uuid.UUID, tuple[str, tuple[str, ...]]]:
    rows = await connection.execute(
        select(E.id, E.url, E.secret, E.previous_secret, E.previous_secret_until).where(
            E.id.in_(ids)
        )
    )
    targets: dict[uuid.UUID, tuple[str, tuple[str, ...]]] = {}
    for row in rows:
        overlap = row.previous_secret_until is not None and row.previous_secret_until > now
        secrets = (row.secret, row.previous_secret) if overlap else (row.secret,)
        targets[row.id] = (row.url, secrets)
    return targets


@dataclass(frozen=True, slots=True)
class Finished:
    claimed: Claimed
    outcome: Outcome
    jitter: float  # 0 to 0.1: added to the retry's wait, so retries spread out


_SUCCEEDED = (
    update(DELIVERIES)
    .where(D.id == bindparam("delivery"), D.attempts == bindparam("attempt"))
    .values(status="succeeded", next_attempt_at=None)
)


async def record(
    database: Database,
    finished: list[Finished],
    retry_schedule: list[float],
    disable_after_seconds: int,
) -> None:
    """Each attempt's row, its delivery's next step, and what it means for its endpoint, in
    one transaction for all (successes in three statements, whatever their number)."""
    now = database.clock()
    successes = [done for done in finished if done.outcome.succeeded]
    async with database.transaction() as connection:
        if successes:
            await connection.execute(
                _SUCCEEDED,
                [{"delivery": d.claimed.id, "attempt": d.claimed.attempt} for d in successes],
            )
            endpoints = list({done.claimed.endpoint_id for done in successes})
            await connection.execute(
                update(ENDPOINTS)
                .where(E.id.in_(endpoints), E.failing_since.is_not(None))
                .values(failing_since=None)
            )
        for done in finished:
            if not done.outcome.succeeded:
                await _failed(connection, done, now, retry_schedule, disable_after_seconds)
        # A stale claim's attempt (its lease ended meanwhile) still happened: it is shown too.
        await connection.execute(insert(ATTEMPTS), [_attempt_row(done, now) for done in finished])


def _attempt_row(done: Finished, now: datetime) -> dict[str, Any]:
    error = done.outcome.error
    return {
        "delivery_id": done.claimed.id,
        "number": done.claimed.attempt,
        "at": now,
        "response_status": done.outcome.status,
        "duration_ms": done.outcome.duration_ms,
        "error": None if error is None else error[:200],
    }


async def _failed(
    connection: AsyncConnection,
    done: Finished,
    now: datetime,
    schedule: list[float],
    disable_after_seconds: int,
) -> None:
    if await _settle(connection, done.claimed, done.outcome, now, schedule, done.jitter):
        await _judge_endpoint(connection, done.claimed, done.outcome, now, disable_after_seconds)


async def _settle(
    connection: AsyncConnection,
    claimed: Claimed,
    outcome: Outcome,
    now: datetime,
    schedule: list[float],
    jitter: float,
) -> bool:
    values: dict[str, Any]
    if outcome.status == 410 or claimed.attempt > len(schedule):
        values = {"status": "failed", "next_attempt_at": None}
    else:
        wait = schedule[claimed.attempt - 1] * (1 + jitter)
        if outcome.retry_after is not None:
            wait = max(wait, min(outcome.retry_after, 24 * 3600))
        values = {"next_attempt_at": now + timedelta(seconds=wait)}
    result = await connection.execute(
        update(DELIVERIES).where(D.id == claimed.id, D.attempts == claimed.attempt).values(**values)
    )
    return bool(result.rowcount)


async def _judge_endpoint(
    connection: AsyncConnection,
    claimed: Claimed,
    outcome: Outcome,
    now: datetime,
    disable_after_seconds: int,
) -> None:
    """A failure starts the failing streak (a success ends it); a 410, or a streak longer than
    the limit, disables the endpoint, and a `webhook.disabled` event in the owner's outbox says
    so."""
    mine = E.id == claimed.endpoint_id
    await connection.execute(
        update(ENDPOINTS).where(mine, E.failing_since.is_(None)).values(failing_since=now)
    )
    if outcome.status == 410:
        reason = "gone"
    else:
        since = await connection.scalar(select(E.failing_since).where(mine))
        if since is None or (now - since).total_seconds() < disable_after_seconds:
            return
        reason = "failing"
    await disable(connection, claimed.user_id, claimed.endpoint_id, reason, now)


async def disable(
    connection: AsyncConnection, owner: str, endpoint_id: uuid.UUID, reason: str, now: datetime
) -> None:
    turned_off = await connection.execute(
        update(ENDPOINTS)
        .where(E.id == endpoint_id, E.enabled)
        .values(enabled=False, disabled_reason=reason, updated_at=now)
        .returning(E.url)
    )
    url = turned_off.scalar()
    if url is None:
        return  # already off
    await take_counter_lock(connection, owner)
    seq = await take_seqs(connection, owner, 1)
    state = {"id": str(endpoint_id), "url": url, "disabled_reason": reason}
    await append_events(
        connection, [event_row(owner, seq, "webhook", endpoint_id, "disabled", now, state)]
    )
