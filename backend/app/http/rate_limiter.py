"""Rate limits per caller: the verified token's subject, or the client address for a request
without a valid token (so guessing tokens is limited too). Fixed windows counted with the
`limits` library, in memory or, with REDIS_URL, in Redis shared by every worker and replica.

Answers follow draft-ietf-httpapi-ratelimit-headers-10: every limited response carries
`RateLimit-Policy: "user";q=3000;w=60` and `RateLimit: "user";r=2999`; a 429 adds `;t=<seconds
until the window resets>` and `Retry-After`.
"""

import logging
import math
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass

import limits
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from app.config import Settings

logger = logging.getLogger("taskapi.ratelimit")

# Give Redis this long per command; when it fails, count nothing for a while (fail open).
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_RETRY_AFTER_SECONDS = 5.0
SWEEP_INTERVAL_SECONDS = 1.0


class Policy:
    """One quota: `name` is what the RateLimit fields call it ("user" or "address")."""

    __slots__ = ("name", "rate", "window_seconds", "policy_field", "_remaining_prefix")

    def __init__(self, name: str, rate: limits.RateLimitItem) -> None:
        self.name = name
        self.rate = rate
        self.window_seconds = rate.get_expiry()
        # Built once: every limited response carries them.
        self.policy_field = f'"{name}";q={rate.amount};w={self.window_seconds}'.encode()
        self._remaining_prefix = f'"{name}";r='.encode()

    def remaining_field(self, count: int, reset_in: int | None = None) -> bytes:
        remaining = str(max(0, self.rate.amount - count)).encode()
        reset = b"" if reset_in is None else b";t=%d" % reset_in
        return self._remaining_prefix + remaining + reset


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one hit: the caller's count in the current window."""

    policy: Policy
    count: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.policy.rate.amount

    def fields(self, reset_in: int | None = None) -> list[tuple[bytes, bytes]]:
        """The RateLimit-Policy and RateLimit header fields, as ASGI headers."""
        return [
            (b"ratelimit-policy", self.policy.policy_field),
            (b"ratelimit", self.policy.remaining_field(self.count, reset_in)),
        ]


def _policy(name: str, spec: str) -> Policy | None:
    return None if spec == "off" else Policy(name, limits.parse(spec))


class SweepingMemoryStorage(MemoryStorage):
    """limits' in-memory storage, sweeping out expired keys at most once a second. Its own sweep
    starts a task on every hit that walks every key: 73 us per request at 1,000 users, 770 us at
    10,000 (measured). A key is also dropped when read after it expired, so sweeping less often
    changes no count, only how long memory of idle callers is kept."""

    _last_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # overrides limits' (private) hook
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._last_sweep = now
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


class RateLimiter:
    """Counts hits per caller in fixed windows: in limits' memory storage, or in Redis (one
    round trip per request: INCR with its expiry, in a script). A Redis that fails is skipped
    for a few seconds and requests go unlimited meanwhile (fail open): the limiter guards
    capacity, and failing closed would turn a Redis outage into an API outage."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.user = _policy("user", settings.rate_limit)
        self.address = _policy("address", settings.rate_limit_anonymous)
        self._storage = storage or SweepingMemoryStorage()
        self._down_until = 0.0

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        """Count one request; None when the count is unknown (Redis unreachable)."""
        key = policy.rate.key_for(policy.name, identity)
        count = await self._call(self._storage.incr(key, policy.window_seconds))
        return None if count is None else Decision(policy, int(count))

    async def reset_in(self, decision: Decision, identity: str) -> int:
        """Whole seconds until this caller's window starts again (at least 1)."""
        policy = decision.policy
        expiry = await self._call(
            self._storage.get_expiry(policy.rate.key_for(policy.name, identity))
        )
        if expiry is None:
            return policy.window_seconds
        return max(1, math.ceil(expiry - time.time()))

    async def _call(self, call: Coroutine[object, object, float]) -> float | None:
        if time.monotonic() < self._down_until:
            call.close()
            return None
        try:
            return await call
        except StorageError as error:
            self._down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
            logger.warning(
                "rate limits off for %.0f s: Redis failed: %r",
                REDIS_RETRY_AFTER_SECONDS,
                error.storage_error,
            )
            return None


@asynccontextmanager
async def open_rate_limiter(settings: Settings) -> AsyncIterator[RateLimiter | None]:
    """The limiter for the app's lifetime; None when both limits are off."""
    if settings.rate_limit == "off" and settings.rate_limit_anonymous == "off":
        yield None
        return
    if settings.redis_url is None:
        yield RateLimiter(settings)
        return
    # Our own pool, with short timeouts, so a hung Redis costs a request a quarter second once
    # (then it is skipped), and so shutdown can close it.
    pool = ConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    storage = RedisStorage(
        "async+redis://",
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=settings.rate_limit_key_prefix,
        connection_pool=pool,  # type: ignore[arg-type]  # limits passes it to redis-py
    )
    try:
        yield RateLimiter(settings, storage)
    finally:
        await pool.aclose()
