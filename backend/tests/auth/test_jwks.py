"""Better Auth tokens verified with the keys of a real JWKS endpoint (a local HTTP server):
algorithms, iss/aud, rotation, outages, throttling and the attacks on key selection (kid, jku,
alg confusion). The rules are checked on the token verifier and its key set as the app's
lifespan builds them (no app, no database); a few tests go through the app to prove the
wiring: start-up prefetch, the 503 envelope, and logging.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from app.auth.jwks import open_key_set
from app.auth.verifier import TokenVerifier
from app.errors import AuthUnavailable, InvalidToken, TokenExpired
from tests.conftest import StartApp
from tests.support.helpers import (
    ALICE,
    SECRET,
    all_tasks,
    assert_401,
    assert_error,
    b64json,
    b64url,
    bearer,
    hand_signed,
    make_settings,
    post_task,
    token_for,
)
from tests.support.jwks_server import (
    BASE_URL,
    JwksServer,
    SigningKey,
    better_auth_claims,
    better_auth_token,
    generate_key,
)

BETTER_AUTH_ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"]


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    """One real key pair per algorithm Better Auth can sign with (generated once: RSA is slow)."""
    return {algorithm: generate_key(algorithm) for algorithm in BETTER_AUTH_ALGORITHMS}


@pytest.fixture
def jwks_server(keys: dict[str, SigningKey]) -> Iterator[JwksServer]:
    server = JwksServer([key.jwk() for key in keys.values()]).start()
    yield server
    server.stop()


@pytest.fixture
def extra_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    """Parametrise indirectly to change settings for one test."""
    return getattr(request, "param", {})


def jwks_settings(url: str, **overrides: object) -> dict[str, object]:
    """JWKS mode only (no shared secret), as a Better Auth deployment runs it."""
    return {
        "better_auth_secret": None,
        "auth_jwks_url": url,
        "auth_issuer": BASE_URL,
        "auth_audience": BASE_URL,
        "auth_jwks_cooldown_seconds": 0,  # tests of the throttle set their own
        **overrides,
    }


@pytest.fixture
def settings_overrides(
    jwks_server: JwksServer, extra_settings: dict[str, object]
) -> dict[str, object]:
    return jwks_settings(jwks_server.url, **extra_settings)


@asynccontextmanager
async def key_verifier(url: str, **overrides: object) -> AsyncIterator[TokenVerifier]:
    """The token verifier as the app's lifespan builds it: keys fetched once, kept fresh."""
    settings = make_settings(**jwks_settings(url, **overrides))
    async with open_key_set(settings) as keys:
        yield TokenVerifier(settings, keys)


@pytest.fixture
async def verifier(
    jwks_server: JwksServer, extra_settings: dict[str, object]
) -> AsyncIterator[TokenVerifier]:
    async with key_verifier(jwks_server.url, **extra_settings) as started:
        yield started


async def refused(verifier: TokenVerifier, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as error:
        await verifier.verify(token)
    return error.value


async def unavailable(verifier: TokenVerifier, token: str) -> AuthUnavailable:
    with pytest.raises(AuthUnavailable) as error:
        await verifier.verify(token)
    return error.value


def assert_503(response: httpx.Response) -> None:
    assert_error(
        response,
        503,
        "AUTH_UNAVAILABLE",
        "Cannot verify tokens right now: the signing keys are unavailable",
    )
    assert "www-authenticate" not in response.headers
    assert int(response.headers["retry-after"]) >= 1


async def wait_until(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Poll: the condition is about a server on another thread, nothing to await."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"still false after {seconds} s")


# --- through the app: the wiring ---------------------------------------------------------


async def test_better_auth_token_creates_a_task_owned_by_its_subject(
    app: FastAPI, client: httpx.AsyncClient, keys: dict[str, SigningKey]
) -> None:
    response = await post_task(client, bearer(better_auth_token(keys["EdDSA"], ALICE)), "Buy milk")

    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == ALICE
    assert [task.user_id for task in await all_tasks(app)] == [ALICE]


async def test_token_refused_by_the_key_set_is_401_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, keys: dict[str, SigningKey]
) -> None:
    stranger = SigningKey("EdDSA", generate_key("EdDSA").private_key)

    assert_401(await post_task(client, bearer(better_auth_token(stranger, ALICE))))
    wrong_audience = better_auth_token(keys["EdDSA"], ALICE, aud="other")
    assert_401(await post_task(client, bearer(wrong_audience)))
    assert await all_tasks(app) == []


async def test_keys_are_fetched_at_start_up_not_per_request(
    client: httpx.AsyncClient, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    assert jwks_server.requests == 1  # the prefetch: the first request pays nothing
    for algorithm in BETTER_AUTH_ALGORITHMS:
        response = await client.get(
            "/api/tasks", headers=bearer(better_auth_token(keys[algorithm], ALICE))
        )
        assert response.status_code == 200
    assert jwks_server.requests == 1


async def test_jwks_down_at_start_answers_503_then_recovers_by_itself(
    start_app: StartApp, keys: dict[str, SigningKey]
) -> None:
    server = JwksServer([key.jwk() for key in keys.values()]).start()
    server.status = 503
    token = better_auth_token(keys["EdDSA"], ALICE)
    try:
        async with start_app(**jwks_settings(server.url)) as (app, client):
            assert_503(await post_task(client, bearer(token), "Buy milk"))
            assert_503(await client.get("/api/tasks", headers=bearer(token)))
            assert await all_tasks(app) == []

            server.status = 200
            response = await post_task(client, bearer(token), "Buy milk")
            assert response.status_code == 201, response.text
            listed = await client.get("/api/tasks", headers=bearer(token))
            assert [task["title"] for task in listed.json()] == ["Buy milk"]
    finally:
        server.stop()


async def test_failures_are_logged_without_the_token(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = better_auth_token(SigningKey("EdDSA", generate_key("EdDSA").private_key), ALICE)
    with caplog.at_level("WARNING", logger="taskapi.auth"):
        assert_401(await post_task(client, bearer(token)))
    messages = [record.getMessage() for record in caplog.records if record.name == "taskapi.auth"]
    assert any("kid" in message for message in messages)
    assert not any(token in message or token.split(".")[2] in message for message in messages)


# --- Better Auth's tokens ------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", BETTER_AUTH_ALGORITHMS)
async def test_better_auth_token_is_accepted_for_each_algorithm(
    verifier: TokenVerifier, keys: dict[str, SigningKey], algorithm: str
) -> None:
    token = better_auth_token(keys[algorithm], ALICE)
    assert jwt.get_unverified_header(token) == {"alg": algorithm, "kid": keys[algorithm].kid}

    assert (await verifier.verify(token)).user_id == ALICE


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iss": "https://evil.example.com"}, id="other-issuer"),
        pytest.param({"iss": ...}, id="no-issuer"),
        pytest.param({"aud": "https://other-app.example.com"}, id="other-audience"),
        pytest.param({"aud": ["https://other-app.example.com"]}, id="other-audience-list"),
        pytest.param({"aud": ...}, id="no-audience"),
        pytest.param({"exp": ...}, id="no-exp"),
        pytest.param({"sub": ...}, id="no-sub"),
        pytest.param({"sub": ""}, id="empty-sub"),
    ],
)
async def test_token_with_wrong_claims_is_refused(
    verifier: TokenVerifier, keys: dict[str, SigningKey], claims: dict[str, Any]
) -> None:
    await refused(verifier, better_auth_token(keys["EdDSA"], ALICE, **claims))


async def test_audience_list_naming_this_api_is_accepted(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    token = better_auth_token(keys["ES256"], ALICE, aud=["https://other.example.com", BASE_URL])
    assert (await verifier.verify(token)).user_id == ALICE


async def test_expired_token_is_token_expired(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    token = better_auth_token(keys["EdDSA"], ALICE, iat=1_700_000_000, exp=1_700_000_900)
    with pytest.raises(TokenExpired):
        await verifier.verify(token)


async def test_user_id_comes_from_sub_not_the_user_record_in_the_token(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    token = better_auth_token(keys["EdDSA"], ALICE, id="someone-else", email="x@example.com")
    assert (await verifier.verify(token)).user_id == ALICE


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256", "PS256"])
async def test_key_listed_without_alg_is_bound_by_its_type(
    verifier: TokenVerifier, jwks_server: JwksServer, algorithm: str
) -> None:
    """Older Better Auth versions list keys without `alg` (kty, crv, x, kid only)."""
    key = generate_key("RS256" if algorithm != "EdDSA" else "EdDSA")
    key = SigningKey(algorithm, key.private_key)
    jwks_server.keys = [key.jwk(with_alg=False)]
    assert (await verifier.verify(better_auth_token(key, ALICE))).user_id == ALICE


async def test_token_without_kid_is_accepted_while_one_key_fits(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    token = better_auth_token(keys["ES256"], ALICE, header={"kid": None})
    assert "kid" not in jwt.get_unverified_header(token)
    assert (await verifier.verify(token)).user_id == ALICE


async def test_token_without_kid_is_refused_when_several_keys_fit(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    second = generate_key("ES256")
    jwks_server.keys = [*jwks_server.keys, second.jwk()]
    assert (await verifier.verify(better_auth_token(second, ALICE))).user_id == ALICE  # loads it

    await refused(verifier, better_auth_token(keys["ES256"], ALICE, header={"kid": None}))


async def test_shared_secret_tokens_are_refused_in_jwks_only_mode(
    verifier: TokenVerifier,
) -> None:
    await refused(verifier, token_for(ALICE, issuer=BASE_URL, audience=BASE_URL))


@pytest.mark.parametrize("extra_settings", [{"better_auth_secret": SECRET}], indirect=True)
async def test_both_modes_accept_their_own_tokens(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    assert (await verifier.verify(better_auth_token(keys["EdDSA"], ALICE))).user_id == ALICE
    assert (
        await verifier.verify(token_for(ALICE, issuer=BASE_URL, audience=BASE_URL))
    ).user_id == ALICE


# --- Rotation and refresh ------------------------------------------------------------------


async def test_rotated_key_is_accepted_without_restart(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    new_key = generate_key("EdDSA")
    jwks_server.keys = [*jwks_server.keys, new_key.jwk()]  # the old key stays for its grace period

    assert (await verifier.verify(better_auth_token(new_key, ALICE))).user_id == ALICE
    assert jwks_server.requests == 2  # one refresh, for the unknown kid
    assert (await verifier.verify(better_auth_token(keys["EdDSA"], ALICE))).user_id == ALICE


@pytest.mark.parametrize("extra_settings", [{"auth_jwks_refresh_seconds": 0.05}], indirect=True)
async def test_keys_are_refreshed_in_the_background_and_removed_keys_stop_working(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    removed = keys["ES256"]
    token = better_auth_token(removed, ALICE)
    assert (await verifier.verify(token)).user_id == ALICE

    jwks_server.keys = [key.jwk() for key in keys.values() if key is not removed]
    seen = jwks_server.requests
    await wait_until(lambda: jwks_server.requests >= seen + 2)  # no request asked for these

    await refused(verifier, token)


async def test_an_empty_key_set_revokes_every_key(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    token = better_auth_token(keys["EdDSA"], ALICE)
    assert (await verifier.verify(token)).user_id == ALICE
    jwks_server.keys = []
    assert verifier.key_set is not None

    await verifier.key_set.refresh()

    assert not verifier.key_set.has_keys
    await refused(verifier, token)  # the cached verification went with the keys
    await refused(verifier, better_auth_token(keys["ES256"], ALICE))


async def test_unknown_kid_refreshes_once_then_is_refused(
    verifier: TokenVerifier, jwks_server: JwksServer
) -> None:
    stranger = SigningKey("EdDSA", generate_key("EdDSA").private_key)

    error = await refused(verifier, better_auth_token(stranger, ALICE))

    assert jwks_server.requests == 2
    assert "kid" in error.reason


def strangers(keys: dict[str, SigningKey], count: int) -> list[str]:
    """Tokens signed with a known key under `count` made-up kids."""
    return [
        better_auth_token(SigningKey("EdDSA", keys["EdDSA"].private_key), ALICE)
        for _ in range(count)
    ]


async def assert_all_refused(verifier: TokenVerifier, tokens: list[str]) -> None:
    results = await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)
    assert all(isinstance(result, InvalidToken) for result in results), results


@pytest.mark.parametrize("extra_settings", [{"auth_jwks_cooldown_seconds": 60}], indirect=True)
async def test_flood_of_unknown_kids_within_the_cooldown_fetches_nothing(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    await assert_all_refused(verifier, strangers(keys, 30))
    assert jwks_server.requests == 1  # only the start-up fetch


@pytest.mark.parametrize("extra_settings", [{"auth_jwks_cooldown_seconds": 0.5}], indirect=True)
async def test_flood_of_unknown_kids_after_the_cooldown_fetches_once(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    await asyncio.sleep(0.6)
    await assert_all_refused(verifier, strangers(keys, 30))
    assert jwks_server.requests == 2  # one shared fetch for all thirty


@pytest.mark.parametrize("extra_settings", [{"auth_jwks_cooldown_seconds": 0.5}], indirect=True)
async def test_concurrent_requests_with_a_new_kid_share_one_fetch_and_all_succeed(
    verifier: TokenVerifier, jwks_server: JwksServer
) -> None:
    await asyncio.sleep(0.6)
    new_key = generate_key("EdDSA")
    jwks_server.keys = [*jwks_server.keys, new_key.jwk()]
    jwks_server.delay = 0.2  # the others arrive while the first fetch is in flight
    token = better_auth_token(new_key, ALICE)

    users = await asyncio.gather(*(verifier.verify(token) for _ in range(10)))

    assert [principal.user_id for principal in users] == [ALICE] * 10
    assert jwks_server.requests == 2


# --- The JWKS endpoint down or broken --------------------------------------------------------


async def test_jwks_unreachable_at_start_is_unavailable_then_recovers_by_itself(
    keys: dict[str, SigningKey],
) -> None:
    first = JwksServer([key.jwk() for key in keys.values()])
    port, url = first.port, first.url
    first.stop()  # nothing listens there now: connection refused
    token = better_auth_token(keys["RS256"], ALICE)

    async with key_verifier(url) as verifier:
        await unavailable(verifier, token)
        server = JwksServer([key.jwk() for key in keys.values()], port=port).start()
        try:
            assert (await verifier.verify(token)).user_id == ALICE
        finally:
            server.stop()


async def test_jwks_that_never_answers_is_given_up_after_the_timeout(
    jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    jwks_server.delay = 3
    async with key_verifier(jwks_server.url, auth_jwks_timeout_seconds=0.2) as verifier:
        await unavailable(verifier, better_auth_token(keys["EdDSA"], ALICE))

    assert jwks_server.requests == 2  # start-up and this request both asked...
    assert jwks_server.answered == 0  # ...and neither waited for the answer


async def test_jwks_down_with_warm_cache_keeps_known_keys_and_is_unavailable_for_unknown_ones(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    jwks_server.status = 500

    assert (await verifier.verify(better_auth_token(keys["ES512"], ALICE))).user_id == ALICE
    rotated = generate_key("EdDSA")  # signed with a key we could not fetch
    await unavailable(verifier, better_auth_token(rotated, ALICE))


async def test_unavailable_says_when_the_next_fetch_may_happen(
    jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    jwks_server.status = 500
    async with key_verifier(jwks_server.url, auth_jwks_cooldown_seconds=30) as verifier:
        error = await unavailable(verifier, better_auth_token(keys["EdDSA"], ALICE))

    assert 25 <= int(error.headers["Retry-After"]) <= 30
    assert jwks_server.requests == 1  # the start-up fetch; the request did not add one


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>Not found</html>", id="not-json"),
        pytest.param(b"[" * 200_000, id="nested-too-deep"),
        pytest.param(b'{"keys": "none"}', id="keys-not-a-list"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "bad"}]}', id="broken-key"),
        pytest.param(json.dumps({"keys": [{"kty": "X"}] * 20_000}).encode(), id="too-large"),
    ],
)
async def test_unusable_key_set_is_unavailable(keys: dict[str, SigningKey], body: bytes) -> None:
    server = JwksServer([]).start()
    server.body = body
    try:
        async with key_verifier(server.url) as verifier:
            await unavailable(verifier, better_auth_token(keys["EdDSA"], ALICE))
    finally:
        server.stop()


async def test_jwks_redirect_is_not_followed(
    jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    redirecting = JwksServer([]).start()
    redirecting.redirect_to = jwks_server.url
    try:
        async with key_verifier(redirecting.url) as verifier:
            await unavailable(verifier, better_auth_token(keys["EdDSA"], ALICE))
        assert redirecting.requests >= 1
        assert jwks_server.requests == 0
    finally:
        redirecting.stop()


# --- Attacks on key selection --------------------------------------------------------------


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../etc/passwd",
        "' OR '1'='1",
        "http://127.0.0.1:9/jwks",
        "k\x00id",
        "k" * 257,
    ],
)
async def test_injected_kid_is_only_a_failed_lookup(
    verifier: TokenVerifier, keys: dict[str, SigningKey], kid: str
) -> None:
    token = better_auth_token(SigningKey("EdDSA", keys["EdDSA"].private_key, kid=kid), ALICE)
    await refused(verifier, token)


async def test_overlong_kid_is_refused_without_asking_the_key_set(
    verifier: TokenVerifier, jwks_server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    kid = "k" * 257
    token = better_auth_token(SigningKey("EdDSA", keys["EdDSA"].private_key, kid=kid), ALICE)

    error = await refused(verifier, token)

    assert "kid" in error.reason
    assert jwks_server.requests == 1  # only the start-up fetch: no refresh for this kid


@pytest.mark.parametrize("kid", [123, ["a"], {"kid": "x"}])
async def test_kid_that_is_not_a_string_is_refused(
    verifier: TokenVerifier, keys: dict[str, SigningKey], kid: object
) -> None:
    valid = better_auth_token(keys["EdDSA"], ALICE)
    _, payload, signature = valid.split(".")
    header = b64json({"alg": "EdDSA", "kid": kid})
    await refused(verifier, f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("header_field", ["jku", "x5u"])
async def test_token_naming_its_own_key_url_is_not_followed(
    verifier: TokenVerifier, header_field: str
) -> None:
    attacker_key = generate_key("EdDSA")
    attacker = JwksServer([attacker_key.jwk()]).start()
    try:
        token = better_auth_token(attacker_key, ALICE, header={header_field: attacker.url})
        await refused(verifier, token)
        assert attacker.requests == 0
    finally:
        attacker.stop()


async def test_token_carrying_its_own_public_key_is_refused(verifier: TokenVerifier) -> None:
    attacker_key = generate_key("ES256")
    token = better_auth_token(attacker_key, ALICE, header={"jwk": attacker_key.jwk()})
    await refused(verifier, token)


async def test_attacker_key_reusing_a_real_kid_is_refused(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    forged = SigningKey("EdDSA", generate_key("EdDSA").private_key, kid=keys["EdDSA"].kid)
    await refused(verifier, better_auth_token(forged, ALICE))


@pytest.mark.parametrize("extra_settings", [{}, {"better_auth_secret": SECRET}], indirect=True)
@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
async def test_hs256_signed_with_the_public_key_is_refused(
    verifier: TokenVerifier, keys: dict[str, SigningKey], algorithm: str
) -> None:
    """The classic algorithm confusion: the public key (PEM, or its JWK) as an HMAC secret."""
    key = keys[algorithm]
    claims = better_auth_claims(ALICE)
    for secret in (key.public_pem(), json.dumps(key.jwk()).encode()):
        token = hand_signed(b64json({"alg": "HS256", "kid": key.kid}), b64json(claims), secret)
        await refused(verifier, token)


async def test_hmac_key_in_the_key_set_is_never_used(
    verifier: TokenVerifier, jwks_server: JwksServer
) -> None:
    secret = b"an-hmac-secret-the-attacker-slipped-into-the-jwks-0123"
    jwks_server.keys = [*jwks_server.keys, {"kty": "oct", "kid": "hmac", "k": b64url(secret)}]
    token = hand_signed(
        b64json({"alg": "HS256", "kid": "hmac"}), b64json(better_auth_claims(ALICE)), secret
    )
    await refused(verifier, token)


async def test_key_meant_for_encryption_is_not_used_for_signatures(
    verifier: TokenVerifier, jwks_server: JwksServer
) -> None:
    key = generate_key("ES256")
    jwks_server.keys = [*jwks_server.keys, {**key.jwk(), "use": "enc"}]
    await refused(verifier, better_auth_token(key, ALICE))


async def test_key_whose_kid_is_not_a_string_is_not_loaded(
    verifier: TokenVerifier, jwks_server: JwksServer
) -> None:
    key = SigningKey("EdDSA", generate_key("EdDSA").private_key, kid="5")
    jwks_server.keys = [*jwks_server.keys, {**key.jwk(), "kid": 5}]
    await refused(verifier, better_auth_token(key, ALICE))


async def test_header_alg_other_than_the_keys_is_refused(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    """An EdDSA signature relabelled ES256 under the EdDSA key's kid."""
    _, payload, signature = better_auth_token(keys["EdDSA"], ALICE).split(".")
    header = b64json({"alg": "ES256", "kid": keys["EdDSA"].kid})
    await refused(verifier, f"{header}.{payload}.{signature}")


async def test_rsa_key_declared_rs256_does_not_verify_ps256(
    verifier: TokenVerifier, keys: dict[str, SigningKey]
) -> None:
    rs256 = keys["RS256"]
    token = better_auth_token(SigningKey("PS256", rs256.private_key, kid=rs256.kid), ALICE)
    await refused(verifier, token)


@pytest.mark.parametrize("alg", ["none", "None", "HS512", "ES384", ""])
async def test_algorithm_outside_the_allow_list_is_refused(
    verifier: TokenVerifier, keys: dict[str, SigningKey], alg: str
) -> None:
    _, payload, signature = better_auth_token(keys["EdDSA"], ALICE).split(".")
    header = b64json({"alg": alg, "kid": keys["EdDSA"].kid})
    await refused(verifier, f"{header}.{payload}.{signature}")
    await refused(verifier, f"{header}.{payload}.")


async def test_es384_is_refused_by_default_and_accepted_when_allowed(
    jwks_server: JwksServer,
) -> None:
    es384 = generate_key("ES384")
    jwks_server.keys = [*jwks_server.keys, es384.jwk()]
    token = better_auth_token(es384, ALICE)

    async with key_verifier(jwks_server.url) as verifier:
        await refused(verifier, token)
    async with key_verifier(jwks_server.url, auth_jwks_algorithms=["EdDSA", "ES384"]) as verifier:
        assert (await verifier.verify(token)).user_id == ALICE


async def test_ec_key_on_the_wrong_curve_for_its_alg_is_not_loaded(
    verifier: TokenVerifier, jwks_server: JwksServer
) -> None:
    """A P-256 key labelled ES512 must not verify anything (RFC 7518 3.4 binds curve to alg)."""
    p256 = generate_key("ES256")
    mislabelled = SigningKey("ES512", p256.private_key)
    jwks_server.keys = [*jwks_server.keys, {**p256.jwk(), "alg": "ES512", "kid": mislabelled.kid}]
    token = better_auth_token(SigningKey("ES256", p256.private_key, kid=mislabelled.kid), ALICE)
    await refused(verifier, token)
