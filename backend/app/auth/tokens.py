"""Minting HS256 tokens: the one function the CLI (dev tokens) and the tests share."""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.config import HmacAlgorithm

# The `typ` header every HMAC-signed API token carries (RFC 9068 2.1, RFC 8725 3.11): Better
# Auth signs JWTs of its own with its secret (email verification, the session cookie cache)
# and never this type, so even a shared secret cannot make one of them an API token.
API_TOKEN_TYPE = "at+jwt"


def mint_token(
    secret: str,
    user_id: str,
    *,
    algorithm: HmacAlgorithm = "HS256",
    expires_in: timedelta = timedelta(hours=1),
    issuer: str | None = None,
    audience: str | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + expires_in}
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    claims.update(extra_claims or {})
    return jwt.encode(claims, secret, algorithm=algorithm, headers={"typ": API_TOKEN_TYPE})
