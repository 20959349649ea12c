"""Who a request acts for: built once per request from a verified token, read by everyone."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    expires_at: float  # the token's `exp`, in seconds since the epoch (leeway not included)
    scopes: tuple[str, ...] = ()
