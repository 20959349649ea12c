"""No server-side request forgery: a webhook URL must be http(s) and its host must resolve
only to public addresses, checked when the URL is saved and again at every connection (a DNS
answer can change after the check: the connection goes to the very address that was checked).

The resolver is a parameter so tests can answer with any address without asking DNS."""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit

from app.errors import WebhookUrlRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services outside the ranges `is_global` already refuses (AWS IPv6, Alibaba).
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to (empty: none)."""
        ...


class SystemResolver:
    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):  # no such name, or one IDNA cannot encode
            return []
        return [str(answer[4][0]) for answer in answers]


class AddressRefused(OSError):
    """The host resolves to an address webhooks must not reach (raised before connecting)."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast and address not in _METADATA


def split_target(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL, or WebhookUrlRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("The URL cannot be parsed") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefused("Only http and https URLs with a host can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("Credentials in the URL are not allowed")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def checked_addresses(
    resolver: Resolver, host: str, port: int, allow_private: bool
) -> list[str]:
    """The addresses to connect to, all of them allowed; AddressRefused otherwise."""
    try:
        addresses: Iterable[str] = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = await resolver.resolve(host, port)
    checked = list(dict.fromkeys(addresses))
    if not checked:
        raise AddressRefused(f"{host} resolves to no address")
    if not allow_private:
        for address in checked:
            if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise AddressRefused(f"{host} resolves to a non-public address")
    return checked


async def check_url(resolver: Resolver, url: str, allow_private: bool) -> None:
    """At creation: WebhookUrlRefused unless `url` may receive webhooks now."""
    host, port = split_target(url)
    try:
        await checked_addresses(resolver, host, port, allow_private)
    except AddressRefused as refused:
        raise WebhookUrlRefused(f"This URL cannot receive webhooks: {refused}") from None
