"""The token rules, checked directly on `TokenVerifier` with the shared HS256 secret: no app,
no HTTP, no database. (tests/auth/test_auth.py proves the endpoints use it; tests/auth/test_jwks.py
covers Better Auth's asymmetric keys.)"""

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.auth.principal import Principal
from app.auth.tokens import API_TOKEN_TYPE, mint_token
from app.auth.verifier import TokenVerifier, Verified, VerifiedTokens
from app.errors import AuthError, InvalidToken, TokenExpired
from tests.support.helpers import (
    ALICE,
    BOB,
    SECRET,
    b64json,
    b64url,
    hand_signed,
    make_settings,
    token_for,
)
from tests.support.jwks_server import JwksServer

MAX_TOKEN_BYTES = 8192
LEEWAY = 30
ISSUER = "https://auth.example.com"
AUDIENCE = "taskapi"
OTHER_SECRET = "another-secret-that-is-long-enough-0123456789"
HS256_HEADER = b64json({"alg": "HS256", "typ": API_TOKEN_TYPE})

Token = Callable[[], str]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


# --- building tokens ------------------------------------------------------------------------


def now() -> int:
    return int(time.time())


def claims(**overrides: object) -> dict[str, Any]:
    """A valid payload for ALICE; an override of None removes the claim."""
    values: dict[str, Any] = {"sub": ALICE, "iat": now(), "exp": now() + 3600, **overrides}
    return {name: value for name, value in values.items() if value is not None}


def hs256(payload: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    """Signed with the shared secret, as an API token (typ at+jwt) unless `headers` say else."""
    headers = {"typ": API_TOKEN_TYPE, **(headers or {})}
    return jwt.encode(payload, SECRET, algorithm="HS256", headers=headers)


def resigned(token: str, change: Callable[[list[str]], list[str]]) -> str:
    return ".".join(change(token.split(".")))


def token_of_length(length: int) -> str:
    """A validly signed token of exactly `length` characters (padded with a claim)."""
    base = len(hs256(claims(pad="")))
    for size in range(max(0, (length - base) * 3 // 4 - 8), length):
        token = hs256(claims(pad="x" * size))
        if len(token) == length:
            return token
    raise AssertionError(f"no token of length {length}")


def public_key_pem() -> bytes:
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def signed_with_its_own_key(alg: str) -> str:
    """An asymmetric token carrying the public key that verifies it (`jwk` header)."""
    fresh: dict[str, Callable[[], PrivateKey]] = {
        "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate,
    }
    key = fresh[alg]()
    jwk = jwt.get_algorithm_by_name(alg).to_jwk(key.public_key(), as_dict=True)
    return jwt.encode(claims(), key, algorithm=alg, headers={"jwk": jwk})


async def verify(token: str, **settings: Any) -> str:
    principal = await TokenVerifier(make_settings(**settings)).verify(token)
    return principal.user_id


async def refusal(token: str, **settings: Any) -> AuthError:
    """The error a token is refused with; its log reason never repeats the token."""
    with pytest.raises(AuthError) as refused:
        await verify(token, **settings)
    for secret_text in {token, token.rsplit(".", 1)[-1]}:
        if len(secret_text) >= 16:  # shorter fragments may occur in any message
            assert secret_text not in refused.value.reason
    return refused.value


# --- accepted -------------------------------------------------------------------------------

ACCEPTED: list[Any] = [
    pytest.param(lambda: token_for(ALICE), ALICE, id="minted-by-the-cli-helper"),
    pytest.param(lambda: mint_token(SECRET, BOB), BOB, id="another-subject"),
    pytest.param(
        lambda: token_for(ALICE, expires_in=timedelta(seconds=-(LEEWAY - 20))),
        ALICE,
        id="expired-within-the-leeway",
    ),
    pytest.param(lambda: hs256(claims(exp=now() + 3600.5)), ALICE, id="fractional-exp"),
    pytest.param(lambda: hs256(claims(nbf=now() + LEEWAY - 20)), ALICE, id="nbf-within-leeway"),
    pytest.param(lambda: hs256(claims(iat=now() + LEEWAY - 20)), ALICE, id="iat-within-leeway"),
    pytest.param(lambda: hs256(claims(sub="é" * 255)), "é" * 255, id="sub-255-printable"),
    pytest.param(lambda: hs256(claims(aud="someone-else")), ALICE, id="aud-not-configured"),
    pytest.param(
        lambda: hs256(claims(id=BOB, email="b@example.com")), ALICE, id="user-record-ignored"
    ),
    pytest.param(lambda: token_of_length(MAX_TOKEN_BYTES), ALICE, id="exactly-max-token-bytes"),
]


@pytest.mark.parametrize(("token", "user"), ACCEPTED)
async def test_valid_token_names_its_subject(token: Token, user: str) -> None:
    assert await verify(token()) == user


# --- refused: structure, signature and algorithm -------------------------------------------

MALFORMED: list[Any] = [
    *(
        pytest.param(
            lambda alg=alg: f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims())}.",
            "not accepted",
            id=f"alg-{alg or 'empty'}",
        )
        for alg in ["none", "None", "NONE", ""]
    ),
    pytest.param(lambda: mint_token(OTHER_SECRET, ALICE), "signature", id="another-secret"),
    pytest.param(
        lambda: hand_signed(b64json({"alg": "HS384"}), b64json(claims()), digest="sha384"),
        "not accepted",
        id="hs384-with-the-right-secret",
    ),
    pytest.param(
        lambda: hand_signed(b64json({"alg": "HS512"}), b64json(claims()), digest="sha512"),
        "not accepted",
        id="hs512-with-the-right-secret",
    ),
    pytest.param(
        lambda: hand_signed(b64json({"typ": "JWT"}), b64json(claims())), "'alg'", id="no-alg"
    ),
    pytest.param(
        lambda: resigned(token_for(ALICE), lambda p: [p[0], b64json(claims(sub=BOB)), p[2]]),
        "signature",
        id="payload-changed-after-signing",
    ),
    pytest.param(
        lambda: resigned(
            token_for(ALICE), lambda p: [p[0], p[1], ("B" if p[2][0] == "A" else "A") + p[2][1:]]
        ),
        "signature",
        id="signature-changed-after-signing",
    ),
    pytest.param(lambda: token_for(ALICE)[:-1], None, id="truncated-last-character"),
    pytest.param(lambda: token_for(ALICE)[:-10], None, id="truncated-ten-characters"),
    pytest.param(
        lambda: token_for(ALICE).rsplit(".", 1)[0] + ".", None, id="truncated-whole-signature"
    ),
    pytest.param(lambda: token_for(ALICE)[: len(token_for(ALICE)) // 2], None, id="truncated-half"),
    pytest.param(lambda: resigned(token_for(ALICE), lambda p: p[:2]), None, id="two-segments"),
    pytest.param(
        lambda: resigned(token_for(ALICE), lambda p: [*p, p[2]]), None, id="four-segments"
    ),
    pytest.param(
        lambda: resigned(token_for(ALICE), lambda p: [p[0], *p]),
        None,
        id="four-segments-header-twice",
    ),
    *(
        pytest.param(lambda garbage=garbage: garbage, None, id=f"garbage-{name}")
        for name, garbage in [
            ("word", "not-a-jwt"),
            ("letters", "a.b.c"),
            ("dots", ".."),
            ("percent", "%%%.%%%.%%%"),
            ("null", "null"),
            ("braces", "{}"),
            ("header-only", "eyJhbGciOiJIUzI1NiJ9"),
            ("padded", "eyJhbGciOiJIUzI1NiJ9.e30=.e30"),
            ("4000-x", "x" * 4000),
        ]
    ),
    *(
        pytest.param(
            lambda header=header: hand_signed(header, b64json(claims())), None, id=f"header-{name}"
        )
        for name, header in [
            ("not-json", b64url(b"not json")),
            ("unterminated-object", b64url(b'{"alg": "HS256"')),
            ("array", b64json(["HS256"])),
            ("string", b64json("HS256")),
            ("not-utf8", b64url(b"\xff\xfe{}")),
            ("deeply-nested", b64url(b"[" * 2000 + b"]" * 2000)),
        ]
    ),
    *(
        pytest.param(
            lambda payload=payload: hand_signed(HS256_HEADER, payload), None, id=f"payload-{name}"
        )
        for name, payload in [
            ("not-json", b64url(b"not json")),
            ("array", b64json([ALICE])),
            ("string", b64json(ALICE)),
        ]
    ),
    *(
        pytest.param(lambda alg=alg: signed_with_its_own_key(alg), "not accepted", id=f"own-{alg}")
        for alg in ["RS256", "ES256", "EdDSA"]
    ),
    pytest.param(
        lambda: hand_signed(HS256_HEADER, b64json(claims()), key=public_key_pem()),
        "signature",
        id="hs256-keyed-with-a-public-key-pem",
    ),
    *(
        pytest.param(
            lambda header=header: hand_signed(
                b64json({"alg": "HS256", "typ": "JWT", **header}), b64json(claims())
            ),
            "crit",
            id=f"crit-{name}",
        )
        for name, header in [
            ("b64-which-pyjwt-understands", {"b64": True, "crit": ["b64"]}),
            ("b64-listed-but-absent", {"crit": ["b64"]}),
            ("registered-claim", {"crit": ["exp"]}),
            ("unknown-extension", {"crit": ["urn:example:p"], "urn:example:p": 1}),
            ("empty-list", {"crit": []}),
        ]
    ),
    pytest.param(
        lambda: token_of_length(MAX_TOKEN_BYTES + 1), str(MAX_TOKEN_BYTES), id="over-max-bytes"
    ),
]


@pytest.mark.parametrize(("token", "reason"), MALFORMED)
async def test_malformed_or_badly_signed_token_is_invalid(token: Token, reason: str | None) -> None:
    error = await refusal(token())

    assert type(error) is InvalidToken
    assert (reason or "").lower() in error.reason.lower()


# --- refused: claims ------------------------------------------------------------------------

BAD_CLAIMS: list[Any] = [
    pytest.param(lambda: claims(exp=None), "exp", id="no-exp"),
    *(
        pytest.param(lambda exp=exp: claims(exp=exp()), "exp", id=f"exp-{name}")
        for name, exp in [
            ("word", lambda: "tomorrow"),
            ("digits-in-a-string", lambda: str(now() + 3600)),
            ("list", lambda: [now() + 3600]),
            ("object", lambda: {"at": now() + 3600}),
        ]
    ),
    # PyJWT runs int() on these; RFC 7519 says NumericDate, so the app checks the type itself.
    pytest.param(lambda: claims(nbf=str(now() - 60)), "nbf", id="nbf-digits-in-a-string"),
    pytest.param(lambda: claims(nbf=True), "nbf", id="nbf-boolean"),
    pytest.param(lambda: claims(iat=str(now() - 60)), "iat", id="iat-digits-in-a-string"),
    pytest.param(lambda: claims(iat=True), "iat", id="iat-boolean"),
    pytest.param(lambda: claims(nbf=now() + LEEWAY + 30), "nbf", id="nbf-beyond-the-leeway"),
    # PyJWT treats a future iat like a future nbf: ImmatureSignatureError.
    pytest.param(lambda: claims(iat=now() + LEEWAY + 30), "iat", id="iat-beyond-the-leeway"),
    *(
        pytest.param(lambda payload=payload: payload(), "sub", id=f"sub-{name}")
        for name, payload in [
            ("missing", lambda: claims(sub=None)),
            ("null", lambda: {**claims(), "sub": None}),
            ("empty", lambda: claims(sub="")),
            ("whitespace", lambda: claims(sub=" \t ")),
            ("number", lambda: claims(sub=12345)),
            ("list", lambda: claims(sub=[ALICE])),
            ("object", lambda: claims(sub={"id": ALICE})),
            ("boolean", lambda: claims(sub=True)),
            ("256-characters", lambda: claims(sub="a" * 256)),
            ("nul", lambda: claims(sub="alice\x00bob")),
            ("newline", lambda: claims(sub="alice\nbob")),
            ("escape", lambda: claims(sub="\x1b[31malice")),
            ("bidi-override", lambda: claims(sub="alice\u202ebob")),
            ("lone-surrogate", lambda: claims(sub="alice\ud800")),
        ]
    ),
]


@pytest.mark.parametrize(("payload", "reason"), BAD_CLAIMS)
async def test_token_with_unusable_claims_is_invalid(
    payload: Callable[[], dict[str, Any]], reason: str
) -> None:
    error = await refusal(hs256(payload()))

    assert type(error) is InvalidToken
    assert reason in error.reason.lower()


async def test_boolean_exp_is_invalid_not_expired() -> None:
    # int(True) is 1: PyJWT alone would read a date in 1970 and answer "expired".
    error = await refusal(hs256(claims(exp=True)))

    assert type(error) is InvalidToken
    assert "'exp' is not a number" in error.reason


def repeating(segment: str, key: str, value: object) -> str:
    """A JSON object (base64url) with `key` added again at its end."""
    text = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
    return b64url((text[:-1] + f", {json.dumps(key)}: {json.dumps(value)}}}").encode())


REPEATED_KEYS: list[Any] = [
    pytest.param(lambda: (HS256_HEADER, repeating(b64json(claims()), "sub", BOB)), id="sub"),
    pytest.param(
        lambda: (HS256_HEADER, repeating(b64json(claims()), "exp", now() + 7200)), id="exp"
    ),
    pytest.param(lambda: (repeating(HS256_HEADER, "alg", "HS256"), b64json(claims())), id="alg"),
    pytest.param(
        lambda: (repeating(b64json({"alg": "HS256", "kid": "k1"}), "kid", "k2"), b64json(claims())),
        id="kid",
    ),
]


@pytest.mark.parametrize("segments", REPEATED_KEYS)
async def test_token_repeating_a_key_is_invalid(segments: Callable[[], tuple[str, str]]) -> None:
    header, payload = segments()
    token = hand_signed(header, payload)  # correctly signed: only the repetition is wrong

    error = await refusal(token)

    assert type(error) is InvalidToken
    assert "repeats the key" in error.reason


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
async def test_hmac_token_typed_as_an_api_token_is_accepted(typ: str) -> None:
    assert await verify(hs256(claims(), headers={"typ": typ})) == ALICE


@pytest.mark.parametrize("typ", [None, "JWT", "jwt"])
async def test_hmac_token_untyped_or_plain_jwt_is_accepted_when_the_user_id_is_sub(
    typ: str | None,
) -> None:
    """What PyJWT and most signers send by default: Better Auth's own secret-signed JWTs
    carry no `sub`, so with the default claim they cannot pass for an API token."""
    header = {"alg": "HS256"} if typ is None else {"alg": "HS256", "typ": typ}
    assert await verify(hand_signed(b64json(header), b64json(claims()))) == ALICE


@pytest.mark.parametrize(
    ("header", "user_id_claim"),
    [
        pytest.param({"typ": None}, "userId", id="no-typ-userId"),
        pytest.param({"typ": "JWT"}, "email", id="jwt-email"),
        pytest.param({"typ": "at+jwt "}, "sub", id="trailing-space"),
        pytest.param({"typ": "better-auth.session-cache+jwt"}, "sub", id="session-cache"),
        pytest.param({"typ": ["at+jwt"]}, "sub", id="list"),
    ],
)
async def test_hmac_token_not_typed_as_an_api_token_is_invalid(
    header: dict[str, Any], user_id_claim: str
) -> None:
    """RFC 8725 3.11: a JWT signed with the same secret for another purpose (Better Auth signs
    its email verification tokens and session cookie cache so) is not an API token: typed as
    something else, or untyped where the user id comes from a claim such tokens carry."""
    signing_input = {"alg": "HS256", **{k: v for k, v in header.items() if v is not None}}
    payload = claims(**{user_id_claim: ALICE})
    error = await refusal(
        hand_signed(b64json(signing_input), b64json(payload)), jwt_user_id_claim=user_id_claim
    )

    assert type(error) is InvalidToken
    assert "typ 'at+jwt'" in error.reason


def test_minted_tokens_are_typed_as_api_tokens() -> None:
    assert jwt.get_unverified_header(token_for(ALICE)) == {"alg": "HS256", "typ": "at+jwt"}


def test_invalid_token_answers_its_exact_detail() -> None:
    assert (InvalidToken.status_code, str(InvalidToken.error_code)) == (401, "INVALID_TOKEN")
    assert InvalidToken().detail == "Invalid bearer token"
    assert InvalidToken().headers == {"WWW-Authenticate": "Bearer"}


async def test_token_expired_beyond_the_leeway_is_token_expired() -> None:
    error = await refusal(token_for(ALICE, expires_in=timedelta(seconds=-(LEEWAY + 30))))

    assert type(error) is TokenExpired
    assert "expired" in error.reason
    assert (error.status_code, str(error.error_code)) == (401, "TOKEN_EXPIRED")
    assert error.detail == "Bearer token has expired"


# --- header parameters that name keys -------------------------------------------------------


@pytest.fixture
def key_server() -> Iterator[JwksServer]:
    """An HTTP server that counts every request, to prove nothing is fetched from it."""
    server = JwksServer([]).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"kid": "{url}/keys/1"}, id="kid-url"),
        pytest.param({"kid": "../../../../dev/null"}, id="kid-path"),
        pytest.param({"kid": "' OR 1=1 --"}, id="kid-sql"),
        pytest.param({"jku": "{url}/jwks.json"}, id="jku"),
        pytest.param({"x5u": "{url}/cert.pem"}, id="x5u"),
        pytest.param({"kid": "k", "jku": "{url}/jwks.json", "x5u": "{url}/c.pem"}, id="all"),
    ],
)
async def test_key_location_headers_are_ignored_and_never_fetched(
    key_server: JwksServer, headers: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{key_server.port}"
    token = hs256(
        claims(), headers={name: value.format(url=url) for name, value in headers.items()}
    )

    assert await verify(token) == ALICE
    assert key_server.requests == 0


# --- issuer and audience --------------------------------------------------------------------

ISS_AND_AUD = {"auth_issuer": ISSUER, "auth_audience": AUDIENCE}


@pytest.mark.parametrize(
    "aud", [pytest.param(AUDIENCE, id="ours"), pytest.param(["other-api", AUDIENCE], id="list")]
)
async def test_right_issuer_and_audience_are_accepted(aud: object) -> None:
    assert await verify(hs256(claims(iss=ISSUER, aud=aud)), **ISS_AND_AUD) == ALICE


@pytest.mark.parametrize(
    ("iss", "aud"),
    [
        pytest.param(None, AUDIENCE, id="missing-iss"),
        pytest.param("https://evil.example.com", AUDIENCE, id="wrong-iss"),
        pytest.param(ISSUER.upper(), AUDIENCE, id="iss-in-another-case"),
        pytest.param(ISSUER + "/", AUDIENCE, id="iss-with-trailing-slash"),
        pytest.param(ISSUER, None, id="missing-aud"),
        pytest.param(ISSUER, "other-api", id="wrong-aud"),
        pytest.param(ISSUER, ["other-api", "third-api"], id="aud-list-without-ours"),
        pytest.param(ISSUER, [], id="empty-aud-list"),
    ],
)
async def test_missing_or_wrong_issuer_or_audience_is_invalid(iss: str | None, aud: object) -> None:
    error = await refusal(hs256(claims(iss=iss, aud=aud)), **ISS_AND_AUD)

    assert type(error) is InvalidToken


# --- a custom user id claim -----------------------------------------------------------------

CUSTOM_CLAIM = {"jwt_user_id_claim": "user_id"}


async def test_custom_claim_names_the_caller_and_sub_is_ignored() -> None:
    assert await verify(hs256(claims(user_id=ALICE, sub=BOB)), **CUSTOM_CLAIM) == ALICE


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(claims, id="only-sub"),
        pytest.param(lambda: claims(user_id=12345), id="not-a-string"),
    ],
)
async def test_token_without_the_custom_claim_as_a_string_is_invalid(
    payload: Callable[[], dict[str, Any]],
) -> None:
    error = await refusal(hs256(payload()), **CUSTOM_CLAIM)

    assert type(error) is InvalidToken
    assert "user_id" in error.reason


# --- remembered tokens ----------------------------------------------------------------------


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(make_settings(jwt_leeway_seconds=0))
    token = hs256(claims(exp=now() + 1))
    assert (await verifier.verify(token)).user_id == ALICE
    assert (await verifier.verify(token)).user_id == ALICE  # served from memory
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(TokenExpired):
        await verifier.verify(token)


async def test_a_refused_token_is_never_remembered() -> None:
    verifier = TokenVerifier(make_settings())
    forged = resigned(hs256(claims()), lambda parts: [parts[0], parts[1], b64url(b"forged")])
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)


def test_remembered_tokens_are_bounded_oldest_first() -> None:
    remembered = VerifiedTokens(max_size=2)
    for token in ("a", "b", "c"):
        remembered.put(token, Verified(Principal(token.upper(), 0), time.time() + 60, None))
    assert remembered.get("a", 0) is None
    assert (remembered.get("b", 0), remembered.get("c", 0)) == (
        Principal("B", 0),
        Principal("C", 0),
    )


def test_a_token_verified_by_an_older_key_set_is_checked_again() -> None:
    remembered = VerifiedTokens()
    alice, bob = Principal("alice", 0), Principal("bob", 0)
    remembered.put("jwks", Verified(alice, time.time() + 60, key_generation=1))
    remembered.put("secret", Verified(bob, time.time() + 60, key_generation=None))
    assert remembered.get("jwks", 1) == alice
    assert remembered.get("jwks", 2) is None  # keys re-read since: verify from scratch
    assert remembered.get("secret", 2) == bob  # the shared secret does not rotate


# --- scopes, and a verifier bound to another audience (the MCP endpoint's) -----------------

MCP_URL = "https://api.example.com/mcp"


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "openid tasks:read  tasks:write"}, ("openid", "tasks:read", "tasks:write")),
        ({"scp": ["tasks:read", 7, "tasks:write"]}, ("tasks:read", "tasks:write")),
        ({"scope": ["tasks:read"]}, ()),  # `scope` is a string or nothing
        ({}, ()),
    ],
)
async def test_the_principal_holds_the_tokens_scopes(
    claims: dict[str, object], scopes: tuple[str, ...]
) -> None:
    token = token_for(ALICE, extra_claims=claims)

    principal = await TokenVerifier(make_settings()).verify(token)

    assert principal.scopes == scopes


async def test_a_verifier_bound_to_another_audience_takes_only_its_tokens() -> None:
    settings = make_settings(auth_audience="https://app.example.com")
    bound = TokenVerifier(settings, audience=MCP_URL)

    principal = await bound.verify(token_for(ALICE, audience=MCP_URL))

    assert principal.user_id == ALICE
    for other in ("https://app.example.com", None):
        with pytest.raises(InvalidToken):
            await bound.verify(token_for(ALICE, audience=other))
