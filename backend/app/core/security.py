"""Bearer-token verification (RFC 8725 rules). Returns the caller's user id or raises."""

from typing import Any

import jwt

from app.config import Settings
from app.errors import AuthError, InvalidToken, TokenExpired
from app.models.task import USER_ID_MAX_LENGTH


class TokenVerifier:
    """Verifies HS256/384/512 tokens signed with BETTER_AUTH_SECRET.

    One algorithm is pinned from configuration, so `none`, another HMAC size and any
    asymmetric algorithm are refused before the signature is even looked at. Header fields
    such as `kid`, `jku` and `x5u` are never used.
    """

    def __init__(self, settings: Settings) -> None:
        if settings.better_auth_secret is None:
            raise ValueError("BETTER_AUTH_SECRET is not set")
        self._secret = settings.better_auth_secret.get_secret_value()
        self._algorithm = settings.jwt_algorithm
        self._user_id_claim = settings.jwt_user_id_claim
        self._leeway = settings.jwt_leeway_seconds
        self._issuer = settings.auth_issuer
        self._audience = settings.auth_audience
        self._max_token_bytes = settings.max_token_bytes

    async def verify(self, token: str) -> str:
        if len(token) > self._max_token_bytes:
            raise InvalidToken(reason=f"token longer than {self._max_token_bytes} bytes")
        claims = self._decode(token)
        return self._user_id_from(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            if "crit" in header:  # RFC 7515 4.1.11: we understand no extensions
                raise InvalidToken(reason="token has a 'crit' header")
            return jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={
                    "require": ["exp", self._user_id_claim],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired(reason="token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(reason=f"{type(exc).__name__}: {exc}") from exc

    def _user_id_from(self, claims: dict[str, Any]) -> str:
        user_id = claims.get(self._user_id_claim)
        if not isinstance(user_id, str) or not user_id.strip():
            raise InvalidToken(reason=f"claim {self._user_id_claim!r} is not a non-empty string")
        if len(user_id) > USER_ID_MAX_LENGTH or not user_id.isprintable():
            raise InvalidToken(reason=f"claim {self._user_id_claim!r} is too long or unprintable")
        return user_id


__all__ = ["AuthError", "TokenVerifier"]
