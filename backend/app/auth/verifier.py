"""Bearer-token verification (RFC 8725 rules). Returns the caller as a Principal or raises."""

import time
from typing import Any, NamedTuple

import jwt

from app.auth.jwks import JwksKeySet
from app.auth.principal import Principal
from app.auth.tokens import API_TOKEN_TYPE
from app.config import Settings
from app.errors import InvalidToken, TokenExpired
from app.kit.unique_keys import RepeatedKey, loads_unique
from app.models.task import USER_ID_MAX_LENGTH

MAX_KID_LENGTH = 256  # Better Auth's kids are 32 characters; anything huge is not a key id.
VERIFIED_CACHE_SIZE = 10_000


class Verified(NamedTuple):
    principal: Principal
    valid_until: float  # exp + leeway, in seconds since the epoch
    key_generation: int | None  # the JWKS generation that verified it; None: the shared secret


class VerifiedTokens:
    """Tokens that passed every check, by their exact text, so a client's next request skips
    parsing and signature checks. An entry is used only while the token has not expired (the
    same `exp` + leeway test PyJWT applies) and, for a JWKS token, while the key set that
    verified it is still the current one; anything else is verified from scratch. Only
    successes are kept, so no refusal can change. Bounded: the oldest entries go first."""

    def __init__(self, max_size: int = VERIFIED_CACHE_SIZE) -> None:
        self._entries: dict[str, Verified] = {}
        self._max_size = max_size

    def get(self, token: str, key_generation: int) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        same_keys = entry.key_generation in (None, key_generation)
        if same_keys and time.time() < entry.valid_until:
            return entry.principal
        del self._entries[token]
        return None

    def put(self, token: str, entry: Verified) -> None:
        if len(self._entries) >= self._max_size:
            del self._entries[next(iter(self._entries))]
        self._entries[token] = entry


class TokenVerifier:
    """Verifies tokens signed with BETTER_AUTH_SECRET (one pinned HMAC algorithm), with the
    keys of AUTH_JWKS_URL (asymmetric algorithms from an allow-list), or either.

    The header's `alg` only chooses between those two: an HMAC token is checked with the
    secret and nothing else, an asymmetric one with a JWKS key bound to that algorithm, and any
    other algorithm (`none` included) is refused before a signature is looked at. `jku` and
    `x5u` are never used; `kid` is only a key in a dictionary.
    """

    def __init__(
        self,
        settings: Settings,
        jwks: JwksKeySet | None = None,
        *,
        audience: str | None = None,
        issuer: str | None = None,
    ) -> None:
        """`audience` and `issuer`, when given, replace AUTH_AUDIENCE and AUTH_ISSUER: the
        MCP endpoint's verifier binds its tokens to the MCP resource URL (app.mcp)."""
        secret = settings.better_auth_secret
        if secret is None and jwks is None:
            raise ValueError("neither BETTER_AUTH_SECRET nor AUTH_JWKS_URL is set")
        self._secret = secret.get_secret_value() if secret is not None else None
        self._hmac_algorithm = settings.jwt_algorithm
        self._jwks = jwks
        self._jwks_algorithms = frozenset(settings.auth_jwks_algorithms)
        self._user_id_claim = settings.jwt_user_id_claim
        self._leeway = settings.jwt_leeway_seconds
        self._issuer = issuer or settings.auth_issuer
        self._audience = audience or settings.auth_audience
        self._max_token_bytes = settings.max_token_bytes
        self._verified = VerifiedTokens()

    @property
    def key_set(self) -> JwksKeySet | None:
        return self._jwks

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token, self._key_generation())
        if remembered is not None:
            return remembered
        if len(token) > self._max_token_bytes:
            raise InvalidToken(reason=f"token longer than {self._max_token_bytes} bytes")
        header = self._header(token)
        key, algorithm = await self._key_for(header)
        claims = self._decode(token, key, algorithm)
        principal = Principal(self._user_id_from(claims), float(claims["exp"]), _scopes(claims))
        generation = None if isinstance(key, str) else self._key_generation()
        self._verified.put(
            token, Verified(principal, principal.expires_at + self._leeway, generation)
        )
        return principal

    def _key_generation(self) -> int:
        return self._jwks.generation if self._jwks is not None else 0

    def _header(self, token: str) -> dict[str, Any]:
        if token.count(".") != 2:  # header.payload.signature (RFC 7515 7.1)
            raise InvalidToken(reason="token is not three dot-separated segments")
        segment = token.split(".", 1)[0]
        try:
            data = jwt.utils.base64url_decode(segment)
        except ValueError as exc:  # binascii.Error
            raise InvalidToken(reason="token header is not base64url") from exc
        header = _json_object(data, "header")
        if "crit" in header:  # RFC 7515 4.1.11: we understand no extensions
            raise InvalidToken(reason="token has a 'crit' header")
        return header

    async def _key_for(self, header: dict[str, Any]) -> tuple[str | jwt.PyJWK, str]:
        algorithm = header.get("alg")
        if not isinstance(algorithm, str):
            raise InvalidToken(reason="token header has no 'alg' string")
        if self._secret is not None and algorithm == self._hmac_algorithm:
            _check_api_token_type(header, required=self._user_id_claim != "sub")
            return self._secret, algorithm
        if self._jwks is not None and algorithm in self._jwks_algorithms:
            kid = header.get("kid")
            if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_LENGTH):
                raise InvalidToken(reason="token 'kid' is not a short string")
            return await self._jwks.key_for(kid, algorithm), algorithm
        raise InvalidToken(reason=f"algorithm {algorithm[:20]!r} is not accepted")

    def _decode(self, token: str, key: str | jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return _STRICT_JWT.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={
                    "require": ["exp", self._user_id_claim],
                    "verify_aud": self._audience is not None,
                    "enforce_minimum_key_length": True,
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


class _StrictJWT(jwt.PyJWT):
    """PyJWT, reading the (signature-checked) payload through our own parse: no repeated key,
    and numeric dates checked before PyJWT's date checks, which would read `"exp": true` as
    1970 and answer "expired". Still one parse of the payload."""

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        payload = _json_object(decoded["payload"], "payload")
        _require_numeric_dates(payload)
        return payload


_STRICT_JWT = _StrictJWT()


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    """A token's header or payload: one JSON object naming each key once (RFC 7515 4, RFC 7519
    4: a repeated name must be refused or the last taken; taking it would let two readers of
    the same token disagree, e.g. about `sub`)."""
    try:
        value = loads_unique(data)
    except RepeatedKey as repeated:
        raise InvalidToken(reason=f"token {part} repeats the key {repeated.key[:20]!r}") from None
    except (ValueError, RecursionError):
        raise InvalidToken(reason=f"token {part} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(reason=f"token {part} is not a JSON object")
    return value


def _check_api_token_type(header: dict[str, Any], *, required: bool) -> None:
    """An HMAC token typed as something else is not an API token (RFC 8725 3.11). Better Auth
    signs JWTs of its own with its secret, untyped and without `sub`: where the user id is read
    from another claim (`userId`, `email`: claims those carry), an untyped one could pass for
    an API token, so there the type `at+jwt` is required."""
    typ = header.get("typ")
    if typ is None and not required:
        return
    if not isinstance(typ, str):
        raise InvalidToken(reason=f"HMAC token without typ {API_TOKEN_TYPE!r}: not an API token")
    kind = typ.lower().removeprefix("application/")
    if kind == API_TOKEN_TYPE or (kind == "jwt" and not required):
        return
    raise InvalidToken(reason=f"HMAC token without typ {API_TOKEN_TYPE!r}: not an API token")


def _scopes(claims: dict[str, Any]) -> tuple[str, ...]:
    """The token's scopes: `scope`, space-separated (RFC 8693, RFC 9068, Better Auth's OAuth
    provider), or `scp`, a list (some other servers). Anything else grants none."""
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return tuple(scope.split())
    if isinstance(scp, list):
        return tuple(item for item in scp if isinstance(item, str))
    return ()


def _require_numeric_dates(claims: dict[str, Any]) -> None:
    """RFC 7519 4.1.4-6: exp, nbf and iat are numbers. PyJWT runs int() on them, which would
    let "1795596124" (a string) or true through."""
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidToken(reason=f"claim {name!r} is not a number")
