"""Authentication with the shared HS256 secret: who the caller is, and every token refused."""

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi import FastAPI

from app.core.tokens import mint_token
from tests.factories import (
    ALICE,
    BOB,
    SECRET,
    all_tasks,
    auth,
    b64json,
    b64url,
    hand_signed,
    make_task,
    token_for,
)
from tests.jwks_server import JwksServer

DETAILS = {
    "NOT_AUTHENTICATED": "Missing bearer token: send 'Authorization: Bearer <token>'",
    "INVALID_TOKEN": "Invalid bearer token",
    "TOKEN_EXPIRED": "Bearer token has expired",
}
MAX_TOKEN_BYTES = 8192
LEEWAY = 30
ISSUER = "https://auth.example.com"
AUDIENCE = "taskapi"

Headers = dict[str, str] | list[tuple[str, str]]


# --- building tokens ------------------------------------------------------------------------


def now() -> int:
    return int(time.time())


def claims(**overrides: object) -> dict[str, Any]:
    """A valid payload for ALICE; an override of None removes the claim."""
    values: dict[str, Any] = {"sub": ALICE, "iat": now(), "exp": now() + 3600, **overrides}
    return {name: value for name, value in values.items() if value is not None}


def hs256(payload: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(payload, SECRET, algorithm="HS256", headers=headers)


HS256_HEADER = b64json({"alg": "HS256", "typ": "JWT"})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- calling the API ------------------------------------------------------------------------


async def create_task(client: httpx.AsyncClient, headers: Headers) -> httpx.Response:
    return await client.post("/api/tasks", json={"title": "a task"}, headers=headers)


def assert_401(response: httpx.Response, error_code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {
        "detail": DETAILS[error_code],
        "error_code": error_code,
        "status_code": 401,
    }
    assert response.headers["www-authenticate"] == "Bearer"


async def assert_refused(
    app: FastAPI, client: httpx.AsyncClient, token: str, error_code: str = "INVALID_TOKEN"
) -> None:
    """A create with this token is a 401 and writes nothing."""
    assert_401(await create_task(client, bearer(token)), error_code)
    assert await all_tasks(app) == []


async def assert_accepted(
    app: FastAPI, client: httpx.AsyncClient, headers: Headers, user: str = ALICE
) -> None:
    """A create with these headers is a 201 owned by `user`, in the response and the table."""
    response = await create_task(client, headers)
    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == user
    assert [task.user_id for task in await all_tasks(app)] == [user]


# --- a valid token --------------------------------------------------------------------------


async def test_valid_token_lists_only_its_subjects_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    mine = await make_task(app, ALICE)
    await make_task(app, BOB)

    response = await client.get("/api/tasks", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert [task["id"] for task in response.json()] == [str(mine.id)]


async def test_valid_token_creates_a_task_owned_by_its_subject(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, auth(BOB), BOB)


async def test_token_minted_by_the_cli_helper_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, bearer(mint_token(SECRET, ALICE)))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_bearer_scheme_is_case_insensitive(
    app: FastAPI, client: httpx.AsyncClient, scheme: str
) -> None:
    await assert_accepted(app, client, {"Authorization": f"{scheme} {token_for(ALICE)}"})


# --- no bearer token ------------------------------------------------------------------------


async def test_missing_authorization_header_is_not_authenticated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert_401(await create_task(client, {}), "NOT_AUTHENTICATED")
    assert await all_tasks(app) == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Basic " + b64url(f"{ALICE}:password".encode()), id="basic"),
        pytest.param("Token {token}", id="token-scheme"),
        pytest.param("JWT {token}", id="jwt-scheme"),
        pytest.param("{token}", id="no-scheme"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer   ", id="bearer-and-spaces"),
        pytest.param("", id="empty"),
    ],
)
async def test_authorization_without_a_bearer_token_is_not_authenticated(
    app: FastAPI, client: httpx.AsyncClient, value: str
) -> None:
    headers = {"Authorization": value.format(token=token_for(ALICE))}

    assert_401(await create_task(client, headers), "NOT_AUTHENTICATED")
    assert await all_tasks(app) == []


# --- signature and algorithm ----------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
async def test_unsigned_token_is_invalid(app: FastAPI, client: httpx.AsyncClient, alg: str) -> None:
    token = f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims())}."

    await assert_refused(app, client, token)


async def test_token_signed_with_another_secret_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = mint_token("another-secret-that-is-long-enough-0123456789", ALICE)

    await assert_refused(app, client, token)


@pytest.mark.parametrize(("alg", "digest"), [("HS384", "sha384"), ("HS512", "sha512")])
async def test_other_hmac_size_with_the_right_secret_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, alg: str, digest: str
) -> None:
    token = hand_signed(b64json({"alg": alg, "typ": "JWT"}), b64json(claims()), digest=digest)

    await assert_refused(app, client, token)


async def test_token_without_alg_is_invalid(app: FastAPI, client: httpx.AsyncClient) -> None:
    await assert_refused(app, client, hand_signed(b64json({"typ": "JWT"}), b64json(claims())))


async def test_payload_changed_after_signing_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    header, _, signature = token_for(ALICE).split(".")

    await assert_refused(app, client, f"{header}.{b64json(claims(sub=BOB))}.{signature}")


async def test_signature_changed_after_signing_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    header, payload, signature = token_for(ALICE).split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]

    await assert_refused(app, client, f"{header}.{payload}.{flipped}")


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda token: token[:-1], id="last-character"),
        pytest.param(lambda token: token[:-10], id="ten-characters"),
        pytest.param(lambda token: token.rsplit(".", 1)[0] + ".", id="whole-signature"),
        pytest.param(lambda token: token[: len(token) // 2], id="half"),
    ],
)
async def test_truncated_token_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, cut: Callable[[str], str]
) -> None:
    await assert_refused(app, client, cut(token_for(ALICE)))


@pytest.mark.parametrize(
    "garbage",
    [
        "not-a-jwt",
        "a.b.c",
        "..",
        "%%%.%%%.%%%",
        "null",
        "{}",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.e30=.e30",
        "x" * 4000,
    ],
)
async def test_garbage_is_invalid(app: FastAPI, client: httpx.AsyncClient, garbage: str) -> None:
    await assert_refused(app, client, garbage)


@pytest.mark.parametrize(
    "reshape",
    [
        pytest.param(lambda parts: parts[:2], id="two-segments"),
        pytest.param(lambda parts: [*parts, parts[2]], id="four-segments"),
        pytest.param(lambda parts: [parts[0], *parts], id="four-segments-header-twice"),
    ],
)
async def test_token_without_exactly_three_segments_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, reshape: Callable[[list[str]], list[str]]
) -> None:
    await assert_refused(app, client, ".".join(reshape(token_for(ALICE).split("."))))


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b64url(b"not json"), id="not-json"),
        pytest.param(b64url(b'{"alg": "HS256"'), id="unterminated-object"),
        pytest.param(b64json(["HS256"]), id="array"),
        pytest.param(b64json("HS256"), id="string"),
        pytest.param(b64url(b"\xff\xfe{}"), id="not-utf8"),
        pytest.param(b64url(b"[" * 2000 + b"]" * 2000), id="deeply-nested"),
    ],
)
async def test_header_that_is_not_a_json_object_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, header: str
) -> None:
    await assert_refused(app, client, hand_signed(header, b64json(claims())))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b64url(b"not json"), id="not-json"),
        pytest.param(b64json([ALICE]), id="array"),
        pytest.param(b64json(ALICE), id="string"),
    ],
)
async def test_signed_payload_that_is_not_a_json_object_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, payload: str
) -> None:
    await assert_refused(app, client, hand_signed(HS256_HEADER, payload))


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

FRESH_KEYS: dict[str, Callable[[], PrivateKey]] = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("alg", list(FRESH_KEYS))
async def test_asymmetric_token_is_invalid_even_carrying_its_own_key(
    app: FastAPI, client: httpx.AsyncClient, alg: str
) -> None:
    key = FRESH_KEYS[alg]()
    jwk = jwt.get_algorithm_by_name(alg).to_jwk(key.public_key(), as_dict=True)

    await assert_refused(
        app, client, jwt.encode(claims(), key, algorithm=alg, headers={"jwk": jwk})
    )


async def test_hs256_token_keyed_with_a_public_key_pem_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    await assert_refused(app, client, hand_signed(HS256_HEADER, b64json(claims()), key=pem))


# --- exp, nbf, iat --------------------------------------------------------------------------


async def test_token_expired_beyond_the_leeway_is_token_expired(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = token_for(ALICE, expires_in=timedelta(seconds=-(LEEWAY + 30)))

    await assert_refused(app, client, token, "TOKEN_EXPIRED")


async def test_token_expired_within_the_leeway_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = token_for(ALICE, expires_in=timedelta(seconds=-(LEEWAY - 20)))

    await assert_accepted(app, client, bearer(token))


async def test_token_without_exp_is_invalid(app: FastAPI, client: httpx.AsyncClient) -> None:
    await assert_refused(app, client, hs256(claims(exp=None)))


@pytest.mark.parametrize(
    "exp",
    [
        pytest.param(lambda: "tomorrow", id="word"),
        pytest.param(lambda: str(now() + 3600), id="digits-in-a-string"),
        pytest.param(lambda: [now() + 3600], id="list"),
        pytest.param(lambda: {"at": now() + 3600}, id="object"),
    ],
)
async def test_exp_that_is_not_a_number_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, exp: Callable[[], object]
) -> None:
    # RFC 7519 4.1.4: exp MUST be a number (a NumericDate).
    await assert_refused(app, client, hs256(claims(exp=exp())))


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["digits", True], ids=["digits-in-a-string", "boolean"])
async def test_time_claim_that_is_not_a_number_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, name: str, value: object
) -> None:
    # PyJWT runs int() on these; RFC 7519 says NumericDate, so the app checks the type itself.
    stamp = now() + 3600 if name == "exp" else now() - 60
    claim = str(stamp) if value == "digits" else value
    response = await create_task(client, bearer(hs256(claims(**{name: claim}))))
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] in {"INVALID_TOKEN", "TOKEN_EXPIRED"}
    assert await all_tasks(app) == []


async def test_fractional_exp_is_a_valid_numeric_date(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, bearer(hs256(claims(exp=now() + 3600.5))))


async def test_nbf_in_the_future_beyond_the_leeway_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_refused(app, client, hs256(claims(nbf=now() + LEEWAY + 30)))


async def test_nbf_in_the_future_within_the_leeway_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, bearer(hs256(claims(nbf=now() + LEEWAY - 20))))


async def test_iat_in_the_future_beyond_the_leeway_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # PyJWT treats a future iat like a future nbf: ImmatureSignatureError.
    await assert_refused(app, client, hs256(claims(iat=now() + LEEWAY + 30)))


async def test_iat_in_the_future_within_the_leeway_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, bearer(hs256(claims(iat=now() + LEEWAY - 20))))


# --- the subject ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda: claims(sub=None), id="missing"),
        pytest.param(lambda: {**claims(), "sub": None}, id="null"),
        pytest.param(lambda: claims(sub=""), id="empty"),
        pytest.param(lambda: claims(sub=" \t "), id="whitespace"),
        pytest.param(lambda: claims(sub=12345), id="number"),
        pytest.param(lambda: claims(sub=[ALICE]), id="list"),
        pytest.param(lambda: claims(sub={"id": ALICE}), id="object"),
        pytest.param(lambda: claims(sub=True), id="boolean"),
        pytest.param(lambda: claims(sub="a" * 256), id="256-characters"),
        pytest.param(lambda: claims(sub="alice\x00bob"), id="nul"),
        pytest.param(lambda: claims(sub="alice\nbob"), id="newline"),
        pytest.param(lambda: claims(sub="\x1b[31malice"), id="escape"),
        pytest.param(lambda: claims(sub="alice\u202ebob"), id="bidi-override"),
        pytest.param(lambda: claims(sub="alice\ud800"), id="lone-surrogate"),
    ],
)
async def test_token_without_a_usable_subject_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, payload: Callable[[], dict[str, Any]]
) -> None:
    await assert_refused(app, client, hs256(payload()))


async def test_subject_of_255_printable_characters_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = "é" * 255

    await assert_accepted(app, client, auth(user), user)


# --- header parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"b64": True, "crit": ["b64"]}, id="b64-which-pyjwt-understands"),
        pytest.param({"crit": ["b64"]}, id="b64-listed-but-absent"),
        pytest.param({"crit": ["exp"]}, id="registered-claim"),
        pytest.param({"crit": ["urn:example:p"], "urn:example:p": 1}, id="unknown-extension"),
        pytest.param({"crit": []}, id="empty-list"),
    ],
)
async def test_crit_header_is_invalid(
    app: FastAPI, client: httpx.AsyncClient, header: dict[str, object]
) -> None:
    token = hand_signed(b64json({"alg": "HS256", "typ": "JWT", **header}), b64json(claims()))

    await assert_refused(app, client, token)


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
    app: FastAPI,
    client: httpx.AsyncClient,
    key_server: JwksServer,
    headers: dict[str, str],
) -> None:
    url = f"http://127.0.0.1:{key_server.port}"
    token = hs256(
        claims(), headers={name: value.format(url=url) for name, value in headers.items()}
    )

    await assert_accepted(app, client, bearer(token))
    assert key_server.requests == 0


# --- size -----------------------------------------------------------------------------------


def token_of_length(length: int) -> str:
    """A validly signed token of exactly `length` characters (padded with a claim)."""
    base = len(hs256(claims(pad="")))
    for size in range(max(0, (length - base) * 3 // 4 - 8), length):
        token = hs256(claims(pad="x" * size))
        if len(token) == length:
            return token
    raise AssertionError(f"no token of length {length}")


async def test_token_over_max_token_bytes_is_invalid(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_refused(app, client, token_of_length(MAX_TOKEN_BYTES + 1))


async def test_token_of_exactly_max_token_bytes_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, bearer(token_of_length(MAX_TOKEN_BYTES)))


# --- issuer and audience --------------------------------------------------------------------


async def test_audience_is_not_checked_when_none_is_configured(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await assert_accepted(app, client, bearer(hs256(claims(aud="someone-else"))))


class TestIssuerAndAudience:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"auth_issuer": ISSUER, "auth_audience": AUDIENCE}

    async def test_right_issuer_and_audience_are_accepted(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await assert_accepted(app, client, bearer(hs256(claims(iss=ISSUER, aud=AUDIENCE))))

    async def test_audience_list_containing_ours_is_accepted(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = hs256(claims(iss=ISSUER, aud=["other-api", AUDIENCE]))

        await assert_accepted(app, client, bearer(token))

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
    async def test_missing_or_wrong_issuer_or_audience_is_invalid(
        self, app: FastAPI, client: httpx.AsyncClient, iss: str | None, aud: object
    ) -> None:
        await assert_refused(app, client, hs256(claims(iss=iss, aud=aud)))


# --- a custom user id claim -----------------------------------------------------------------


class TestCustomUserIdClaim:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"jwt_user_id_claim": "user_id"}

    async def test_custom_claim_names_the_caller_and_sub_is_ignored(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await assert_accepted(app, client, bearer(hs256(claims(user_id=ALICE, sub=BOB))))

    async def test_token_with_only_sub_is_invalid(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await assert_refused(app, client, hs256(claims()))

    async def test_custom_claim_that_is_not_a_string_is_invalid(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await assert_refused(app, client, hs256(claims(user_id=12345)))


# --- identity comes from the token only -----------------------------------------------------


async def test_user_id_query_parameter_does_not_change_the_owner_of_a_new_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        f"/api/tasks?user_id={BOB}", json={"title": "a task"}, headers=auth(ALICE)
    )

    assert response.status_code == 201, response.text
    assert [task.user_id for task in await all_tasks(app)] == [ALICE]


async def test_user_id_query_parameter_does_not_reveal_another_users_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_task(app, BOB)

    response = await client.get(f"/api/tasks?user_id={BOB}", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize(
    "header", ["X-User-Id", "X-Forwarded-User", "X-Auth-Request-User", "Remote-User"]
)
async def test_identity_header_does_not_change_the_caller(
    app: FastAPI, client: httpx.AsyncClient, header: str
) -> None:
    await assert_accepted(app, client, {**auth(ALICE), header: BOB})


async def test_identity_header_without_a_token_is_not_authenticated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert_401(await create_task(client, {"X-User-Id": ALICE}), "NOT_AUTHENTICATED")
    assert await all_tasks(app) == []


@pytest.mark.parametrize("second", [BOB, ALICE])
async def test_two_authorization_headers_are_refused(
    app: FastAPI, client: httpx.AsyncClient, second: str
) -> None:
    # RFC 9110 allows one: with two, a proxy and the app could each pick a different caller.
    headers = [("Authorization", auth(ALICE)["Authorization"]), *auth(second).items()]

    assert_401(await create_task(client, headers), "INVALID_TOKEN")
    assert await all_tasks(app) == []


async def test_user_id_in_an_update_body_is_400_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await make_task(app, ALICE)
    before = [row.model_dump() for row in await all_tasks(app)]

    response = await client.put(
        f"/api/tasks/{task.id}", json={"title": "mine now", "user_id": BOB}, headers=auth(ALICE)
    )

    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert [row.model_dump() for row in await all_tasks(app)] == before


# --- logging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        pytest.param(lambda: None, "authorization", id="no-header"),
        pytest.param(lambda: "not-a-jwt", "segments", id="garbage"),
        pytest.param(
            lambda: mint_token("another-secret-that-is-long-enough-0123456789", ALICE),
            "signature",
            id="wrong-secret",
        ),
        pytest.param(
            lambda: f"{b64json({'alg': 'none'})}.{b64json(claims())}.",
            "alg",
            id="alg-none",
        ),
        pytest.param(
            lambda: token_for(ALICE, expires_in=timedelta(minutes=-5)),
            "expired",
            id="expired",
        ),
        pytest.param(lambda: hs256(claims(sub=None)), "sub", id="no-sub"),
        pytest.param(lambda: hs256(claims(sub="alice\x00")), "sub", id="unprintable-sub"),
        pytest.param(
            lambda: hand_signed(
                b64json({"alg": "HS256", "b64": True, "crit": ["b64"]}), b64json(claims())
            ),
            "crit",
            id="crit",
        ),
        pytest.param(
            lambda: token_of_length(MAX_TOKEN_BYTES + 1), str(MAX_TOKEN_BYTES), id="too-long"
        ),
    ],
)
async def test_authentication_failure_is_logged_with_a_reason_and_never_the_token(
    app: FastAPI,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    make_token: Callable[[], str | None],
    reason: str,
) -> None:
    token = make_token()
    caplog.set_level(logging.DEBUG)

    response = await create_task(client, bearer(token) if token is not None else {})

    assert response.status_code == 401, response.text
    [record] = [record for record in caplog.records if record.name == "taskapi.auth"]
    assert record.levelno == logging.WARNING
    assert reason.lower() in record.getMessage().lower()
    if token:
        signature = token.rsplit(".", 1)[-1]
        for secret_text in {token, signature} - {""}:
            assert all(secret_text not in r.getMessage() for r in caplog.records)
            assert secret_text not in caplog.text


# --- every endpoint -------------------------------------------------------------------------

ENDPOINTS = [
    pytest.param("GET", "/api/tasks", None, id="list"),
    pytest.param("POST", "/api/tasks", {"title": "new"}, id="create"),
    pytest.param("GET", "/api/tasks/{id}", None, id="get"),
    pytest.param("PUT", "/api/tasks/{id}", {"title": "changed"}, id="update"),
    pytest.param("DELETE", "/api/tasks/{id}", None, id="delete"),
]

CREDENTIALS = [
    pytest.param(lambda: {}, "NOT_AUTHENTICATED", id="no-token"),
    pytest.param(lambda: bearer("not-a-jwt"), "INVALID_TOKEN", id="invalid-token"),
    pytest.param(
        lambda: auth(ALICE, expires_in=timedelta(minutes=-5)), "TOKEN_EXPIRED", id="expired"
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(("headers", "error_code"), CREDENTIALS)
async def test_every_endpoint_is_401_without_valid_credentials_and_writes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, str] | None,
    headers: Callable[[], dict[str, str]],
    error_code: str,
) -> None:
    task = await make_task(app, ALICE)
    before = [row.model_dump() for row in await all_tasks(app)]

    response = await client.request(method, path.format(id=task.id), json=body, headers=headers())

    assert_401(response, error_code)
    assert [row.model_dump() for row in await all_tasks(app)] == before
