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
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from limits.storage import MemoryStorage
from redis.asyncio import ConnectionPool

from app.config import Settings

logger = logging.getLogger("taskapi.ratelimit")

# Give Redis this long per command; when it fails, count nothing for a while (fail open).
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_RETRY_AFTER_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Policy:
    """One quota: `name` is what the RateLimit fields call it ("user" or "address")."""

    name: str
    rate: limits.RateLimitItem

    @property
    def window_seconds(self) -> int:
        return self.rate.get_expiry()

    def policy_field(self) -> str:
        return f'"{self.name}";q={self.rate.amount};w={self.window_seconds}'

    def remaining_field(self, count: int, reset_in: int | None = None) -> str:
        remaining = max(0, self.rate.amount - count)
        reset = "" if reset_in is None else f";t={reset_in}"
        return f'"{self.name}";r={remaining}{reset}'


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one hit: the caller's count in the current window."""

    policy: Policy
    count: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.policy.rate.amount

    def fields(self, reset_in: int | None = None) -> dict[str, str]:
        return {
            "RateLimit-Policy": self.policy.policy_field(),
            "RateLimit": self.policy.remaining_field(self.count, reset_in),
        }


def _policy(name: str, spec: str) -> Policy | None:
    return None if spec == "off" else Policy(name, limits.parse(spec))


class RateLimiter:
    """Counts hits per key. In memory it is limits' synchronous MemoryStorage: plain dict work
    under a lock, never blocking (its async MemoryStorage rescans every key on every hit, which
    cost 73 us per request at 1,000 users and 770 us at 10,000). In Redis, one round trip per
    request (INCR with its expiry); a Redis that fails is skipped for a few seconds and requests
    go unlimited meanwhile: the limiter guards capacity, and failing closed would turn a Redis
    outage into an API outage."""

    def __init__(self, settings: Settings, redis: RedisStorage | None = None) -> None:
        self.user = _policy("user", settings.rate_limit)
        self.address = _policy("address", settings.rate_limit_anonymous)
        self._memory = MemoryStorage() if redis is None else None
        self._redis = redis
        self._redis_down_until = 0.0

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        """Count one request; None when the count is unknown (Redis unreachable)."""
        key = policy.rate.key_for(policy.name, identity)
        if self._memory is not None:
            return Decision(policy, self._memory.incr(key, policy.window_seconds))
        count = await self._redis_call(self._redis_incr(key, policy.window_seconds))
        return None if count is None else Decision(policy, int(count))

    async def exhausted(self, policy: Policy, identity: str) -> Decision | None:
        """The current count, when it is already over the quota (nothing is counted)."""
        key = policy.rate.key_for(policy.name, identity)
        if self._memory is not None:
            count: float | None = self._memory.get(key)
        else:
            count = await self._redis_call(self._redis_get(key))
        if count is None or count < policy.rate.amount:
            return None
        return Decision(policy, int(count) + 1)

    async def reset_in(self, decision: Decision, identity: str) -> int:
        """Whole seconds until the window of this key starts again (at least 1)."""
        key = decision.policy.rate.key_for(decision.policy.name, identity)
        if self._memory is not None:
            expiry: float | None = self._memory.get_expiry(key)
        else:
            expiry = await self._redis_call(self._redis_expiry(key))
        if expiry is None:
            return decision.policy.window_seconds
        return max(1, math.ceil(expiry - time.time()))

    async def _redis_incr(self, key: str, expiry: int) -> float:
        assert self._redis is not None
        return await self._redis.incr(key, expiry)

    async def _redis_get(self, key: str) -> float:
        assert self._redis is not None
        return await self._redis.get(key)

    async def _redis_expiry(self, key: str) -> float:
        assert self._redis is not None
        return await self._redis.get_expiry(key)

    async def _redis_call(self, call: Coroutine[object, object, float]) -> float | None:
        if time.monotonic() < self._redis_down_until:
            call.close()
            return None
        try:
            return await call
        except StorageError as error:
            self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
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
