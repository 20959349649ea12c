"""One attempt over HTTP, signed as Standard Webhooks specifies: `webhook-id` (the delivery's
id, the same on every attempt), `webhook-timestamp`, `webhook-signature` (`v1,` + base64
HMAC-SHA256 of `id.timestamp.body`, one per secret during a rotation's overlap).

Connections go only to addresses checked at connect time (app.webhooks.ssrf); no redirect is
followed, no proxy from the environment is used, at most WEBHOOK_MAX_RESPONSE_BYTES of the
answer are read, and the whole attempt has WEBHOOK_TIMEOUT_SECONDS."""

import asyncio
import email.utils
import time
from datetime import UTC, datetime

import httpcore
import httpx
from standardwebhooks import Webhook

from app.config import Settings
from app.webhooks.queue import Claimed, Outcome
from app.webhooks.ssrf import AddressRefused, GuardedBackend, Resolver

USER_AGENT = "taskapi-webhooks/1"


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: GuardedBackend, max_connections: int) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass the network backend: build it again.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30,
            network_backend=backend,
        )


class Sender:
    def __init__(self, settings: Settings, resolver: Resolver) -> None:
        backend = GuardedBackend(resolver, settings.webhook_allow_private_targets)
        timeout = httpx.Timeout(
            settings.webhook_timeout_seconds, connect=settings.webhook_connect_timeout_seconds
        )
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(backend, settings.webhook_concurrency),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )
        self._total = settings.webhook_timeout_seconds
        self._max_bytes = settings.webhook_max_response_bytes
        self._signers: dict[str, Webhook] = {}

    async def close(self) -> None:
        await self._client.aclose()

    def headers(self, claimed: Claimed, now: datetime) -> dict[str, str]:
        message_id = str(claimed.id)
        signatures = [
            self._signer(secret).sign(message_id, now, claimed.body) for secret in claimed.secrets
        ]
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }

    async def send(self, claimed: Claimed, now: datetime) -> Outcome:
        started = time.monotonic()
        headers = self.headers(claimed, now)
        try:
            async with asyncio.timeout(self._total):
                request = self._client.stream(
                    "POST", claimed.url, content=claimed.body.encode(), headers=headers
                )
                async with request as response:
                    await self._read_some(response)
                    retry_after = _retry_after(response.headers.get("retry-after"), now)
                    return Outcome(response.status_code, _ms(started), None, retry_after)
        except AddressRefused as refused:
            return Outcome(None, _ms(started), f"refused: {refused}")
        except TimeoutError:
            return Outcome(None, _ms(started), "timeout")
        except httpx.HTTPError as error:
            return Outcome(None, _ms(started), f"{type(error).__name__}: {error}"[:200])

    async def _read_some(self, response: httpx.Response) -> None:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= self._max_bytes:
                break  # enough: the rest is not ours to hold

    def _signer(self, secret: str) -> Webhook:
        signer = self._signers.get(secret)
        if signer is None:
            signer = self._signers[secret] = Webhook(secret)
        return signer


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds, or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
