"""One attempt over HTTP, signed as Standard Webhooks specifies: `webhook-id` (the delivery's
id, the same on every attempt), `webhook-timestamp`, `webhook-signature` (`v1,` + base64
HMAC-SHA256 of `id.timestamp.body`, one per secret during a rotation's overlap).

aiohttp, because its connector resolves each new connection's host through our resolver and
connects to exactly the addresses it returns: those are checked there (app.webhooks.ssrf), so
a DNS answer that changed since the URL was saved is refused before any connection (no DNS
cache). An IP literal in the URL is checked here (aiohttp does not resolve it). No redirect
is followed, no proxy from the environment is used, at most WEBHOOK_MAX_RESPONSE_BYTES of the
answer are read, and the whole attempt has WEBHOOK_TIMEOUT_SECONDS (connecting,
WEBHOOK_CONNECT_TIMEOUT_SECONDS)."""

import email.utils
import ipaddress
import socket
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from standardwebhooks import Webhook

from app.config import Settings
from app.webhooks.queue import Claimed, Outcome
from app.webhooks.ssrf import AddressRefused, Resolver, checked_addresses, split_target

USER_AGENT = "taskapi-webhooks/1"


class _CheckedResolver(AbstractResolver):
    def __init__(self, resolver: Resolver, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await checked_addresses(self._resolver, host, port, self._allow_private)
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        pass


def _result(host: str, address: str, port: int) -> ResolveResult:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


class Sender:
    def __init__(self, settings: Settings, resolver: Resolver) -> None:
        self._allow_private = settings.webhook_allow_private_targets
        self._resolver = resolver
        self._connector_options: dict[str, Any] = {
            "resolver": _CheckedResolver(resolver, self._allow_private),
            "use_dns_cache": False,
            "limit": settings.webhook_concurrency,
            "limit_per_host": 0,
        }
        self._timeout = aiohttp.ClientTimeout(
            total=settings.webhook_timeout_seconds,
            connect=settings.webhook_connect_timeout_seconds,
        )
        self._max_bytes = settings.webhook_max_response_bytes
        self._session: aiohttp.ClientSession | None = None
        self._signers: dict[str, Webhook] = {}

    def _client(self) -> aiohttp.ClientSession:
        # Made in the running loop, on first use.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(**self._connector_options),
                timeout=self._timeout,
                trust_env=False,
                auto_decompress=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

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
        try:
            await self._check_literal(claimed.url)
            request = self._client().post(
                claimed.url,
                data=claimed.body.encode(),
                headers=self.headers(claimed, now),
                allow_redirects=False,
            )
            async with request as response:
                await self._read_some(response)
                retry_after = _retry_after(response.headers.get("retry-after"), now)
                return Outcome(response.status, _ms(started), None, retry_after)
        except AddressRefused as refused:
            return Outcome(None, _ms(started), f"refused: {refused}")
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, AddressRefused):
                return Outcome(None, _ms(started), f"refused: {error.os_error}")
            return Outcome(None, _ms(started), f"cannot connect: {error.os_error}"[:200])
        except TimeoutError:
            return Outcome(None, _ms(started), "timeout")
        except aiohttp.ClientError as error:
            return Outcome(None, _ms(started), f"{type(error).__name__}: {error}"[:200])

    async def _check_literal(self, url: str) -> None:
        """aiohttp connects to an IP literal without asking the resolver: check it here."""
        host, port = split_target(url)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return
        await checked_addresses(self._resolver, host, port, self._allow_private)

    async def _read_some(self, response: aiohttp.ClientResponse) -> None:
        read = 0
        async for chunk in response.content.iter_chunked(16 * 1024):
            read += len(chunk)
            if read >= self._max_bytes:
                response.close()  # enough: the rest is not ours to hold
                return

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
    seconds = value.strip()
    if seconds.isascii() and seconds.isdigit():  # str.isdigit is true of "²" too
        return float(seconds)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
