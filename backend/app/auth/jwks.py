"""Better Auth's public signing keys (JWKS): fetched from the configured URL, cached, kept fresh.

Only the configured URL is ever fetched; nothing in a token (`jku`, `x5u`, `kid`) names where
keys come from. Each key is bound to the algorithms its type allows (or to its own `alg`), and
symmetric (`oct`) keys are never loaded, so an HMAC token can never be checked against a public
key. Fetches are single-flight and rate-limited: a flood of tokens with random `kid`s costs the
auth server at most one request per cooldown.

PyJWT's own `PyJWKClient` is not used: it fetches with blocking urllib (which would stall the
event loop) and refetches on every unknown `kid` with no rate limit.
"""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
import jwt

from app.config import Settings
from app.errors import AuthUnavailable, InvalidToken

logger = logging.getLogger("taskapi.auth")

MAX_JWKS_BYTES = 256 * 1024

# What each kind of public key can verify (RFC 7518 section 3, RFC 8037 section 3.1).
_RSA = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_ALGORITHMS_FOR_KEY: dict[tuple[str, str | None], frozenset[str]] = {
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("RSA", None): _RSA,
}

KeyId = tuple[str | None, str]  # (kid, algorithm)


class JwksUnusable(Exception):
    """The JWKS endpoint answered, but not with a usable key set."""


class JwksKeySet:
    """The signing keys, looked up by the token's `kid` and `alg`."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        algorithms: Iterable[str],
        cooldown_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self.url = url
        self._client = client
        self._algorithms = frozenset(algorithms)
        self._cooldown = cooldown_seconds
        self._timeout = timeout_seconds
        self._keys: dict[KeyId, jwt.PyJWK] = {}
        # Bumped whenever the keys are replaced: a token verified with an older set is
        # verified again (its key may have been revoked).
        self.generation = 0
        self._fetch_error: str | None = None
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()
        # For the metrics.
        self.fetches = 0
        self.failed_fetches = 0

    @property
    def has_keys(self) -> bool:
        return bool(self._keys)

    async def key_for(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The key for this token header; one (throttled) refresh if none is cached.

        Raises InvalidToken when the key set has no such key, AuthUnavailable when the key
        set cannot be fetched and nothing cached fits.
        """
        key = self._find(kid, algorithm)
        if key is None:
            await self.refresh()
            key = self._find(kid, algorithm)
        if key is not None:
            return key
        if self._fetch_error is not None:
            raise AuthUnavailable(retry_after_seconds=self._next_fetch_in())
        raise InvalidToken(reason=f"no {algorithm} signing key with kid {kid!r} in the JWKS")

    async def refresh(self) -> None:
        """Fetch the key set now, unless another fetch just ran. Never raises: a failure is
        logged and remembered, and the keys fetched before stay in use."""
        asked_at = time.monotonic()
        async with self._lock:
            last = self._last_attempt
            if last is not None and (last >= asked_at or asked_at - last < self._cooldown):
                return  # fetched while we waited, or too recently to ask again
            self._last_attempt = time.monotonic()
            self.fetches += 1
            try:
                async with asyncio.timeout(self._timeout):
                    keys = await self._fetch()
            except (httpx.HTTPError, TimeoutError, JwksUnusable) as error:
                self._fetch_error = f"{type(error).__name__}: {error}"
                self.failed_fetches += 1
                logger.warning("cannot fetch signing keys from %s: %s", self.url, self._fetch_error)
                return
            if keys.keys() != self._keys.keys():  # log rotations, not every periodic re-read
                kids = sorted({str(kid) for kid, _ in keys})
                logger.info("signing keys from %s: %s", self.url, ", ".join(kids))
            self._keys, self._fetch_error = keys, None
            self.generation += 1

    async def keep_fresh(self, interval_seconds: float) -> None:
        """Re-read the key set forever, so rotation and revocation need no restart."""
        while True:
            await asyncio.sleep(interval_seconds)
            await self.refresh()

    def _next_fetch_in(self) -> float:
        """Seconds until the cooldown lets another fetch happen."""
        since = time.monotonic() - (self._last_attempt or 0)
        return max(0.0, self._cooldown - since)

    def _find(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get((kid, algorithm))
        # No kid in the token: acceptable only while exactly one key could have signed it.
        candidates = [key for (_, alg), key in self._keys.items() if alg == algorithm]
        return candidates[0] if len(candidates) == 1 else None

    async def _fetch(self) -> dict[KeyId, jwt.PyJWK]:
        headers = {"Accept": "application/json"}
        async with self._client.stream("GET", self.url, headers=headers) as response:
            if response.status_code != 200:
                raise JwksUnusable(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksUnusable(f"response larger than {MAX_JWKS_BYTES} bytes")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as error:  # RecursionError: absurdly nested
            raise JwksUnusable("response is not JSON") from error
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise JwksUnusable("response has no 'keys' list")
        keys = dict(self._parse(entries))
        # `"keys": []` is the auth server saying it signs with nothing (every key revoked): no
        # keys from now on. Keys that are all unusable here look like a fault: keep the old.
        if entries and not keys:
            raise JwksUnusable(f"no usable signing key for {sorted(self._algorithms)}")
        return keys

    def _parse(self, entries: list[Any]) -> Iterator[tuple[KeyId, jwt.PyJWK]]:
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if kid is not None and not isinstance(kid, str):
                continue
            for algorithm in self._algorithms_for(entry):
                try:
                    yield (kid, algorithm), jwt.PyJWK(entry, algorithm)
                except jwt.PyJWTError as error:
                    logger.warning("skipping JWKS key %r: %s", kid, error)

    def _algorithms_for(self, entry: dict[str, Any]) -> frozenset[str]:
        kty, crv = str(entry.get("kty")), entry.get("crv")
        curve = crv if kty != "RSA" and isinstance(crv, str) else None
        fits = _ALGORITHMS_FOR_KEY.get((kty, curve), frozenset())
        declared = entry.get("alg")
        if declared is not None:
            fits = fits & {declared} if isinstance(declared, str) else frozenset()
        return fits & self._algorithms


@asynccontextmanager
async def open_key_set(settings: Settings) -> AsyncIterator[JwksKeySet | None]:
    """The key set for the app's lifetime (None without AUTH_JWKS_URL): fetched once at
    start-up so no request pays for it, then refreshed in the background."""
    if settings.auth_jwks_url is None:
        yield None
        return
    timeout = settings.auth_jwks_timeout_seconds
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        keys = JwksKeySet(
            str(settings.auth_jwks_url),
            client,
            algorithms=settings.auth_jwks_algorithms,
            cooldown_seconds=settings.auth_jwks_cooldown_seconds,
            timeout_seconds=timeout,
        )
        await keys.refresh()  # a failure is logged, not fatal: requests retry it later
        refresher = asyncio.create_task(keys.keep_fresh(settings.auth_jwks_refresh_seconds))
        try:
            yield keys
        finally:
            refresher.cancel()
            with suppress(asyncio.CancelledError):
                await refresher
