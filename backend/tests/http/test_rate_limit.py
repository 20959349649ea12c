"""Rate limits: per verified caller, per client address without a valid token; 429
RATE_LIMITED with Retry-After and the RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10);
in memory, or shared through Redis."""

import logging
import os
import socket
import uuid
from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import StartApp
from tests.support.helpers import (
    ALICE,
    BOB,
    all_rows,
    assert_error,
    auth,
    bearer,
    make_settings,
    post_task,
    token_for,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("CI", "").lower() == "true"


def _redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_settings() -> dict[str, object]:
    """Redis with a key prefix of this test's own, so runs and workers never share counters."""
    if not _redis_is_up():
        if REQUIRE_REDIS:
            pytest.fail("Redis is not running on 127.0.0.1:6379", pytrace=False)
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return {"redis_url": REDIS_URL, "rate_limit_key_prefix": f"test-{uuid.uuid4().hex}"}


def assert_rate_limited(response: httpx.Response, policy: str, quota: int) -> None:
    assert_error(response, 429, "RATE_LIMITED")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.headers["RateLimit-Policy"] == f'"{policy}";q={quota};w=60'
    assert response.headers["RateLimit"] == f'"{policy}";r=0;t={retry_after}'


async def test_a_user_past_the_quota_gets_429_and_nothing_is_written(
    start_app: StartApp,
) -> None:
    async with start_app(rate_limit="3/minute") as (app, client):
        created = [await post_task(client, auth(ALICE), f"task {n}") for n in range(3)]
        before = await all_rows(app)
        refused = await post_task(client, auth(ALICE), "one too many")

        assert [response.status_code for response in created] == [201, 201, 201]
        assert [response.headers["RateLimit"] for response in created] == [
            '"user";r=2',
            '"user";r=1',
            '"user";r=0',
        ]
        assert created[0].headers["RateLimit-Policy"] == '"user";q=3;w=60'
        assert_rate_limited(refused, "user", 3)
        assert await all_rows(app) == before
        assert len(before) == 3


async def test_each_user_has_a_quota_of_their_own(start_app: StartApp) -> None:
    async with start_app(rate_limit="2/minute") as (app, client):
        for _ in range(2):
            assert (await client.get("/api/tasks", headers=auth(ALICE))).status_code == 200
        alice = await client.get("/api/tasks", headers=auth(ALICE))
        bob = await post_task(client, auth(BOB))

        assert_rate_limited(alice, "user", 2)
        assert bob.status_code == 201
        assert [row["user_id"] for row in await all_rows(app)] == [BOB]


async def test_a_new_token_of_the_same_user_shares_the_quota(start_app: StartApp) -> None:
    """The key is the verified subject, not the token: minting more tokens buys nothing."""
    async with start_app(rate_limit="2/minute") as (app, client):
        for seconds in (600, 601):
            headers = auth(ALICE, expires_in=timedelta(seconds=seconds))
            assert (await client.get("/api/tasks", headers=headers)).status_code == 200
        refused = await post_task(client, auth(ALICE, expires_in=timedelta(seconds=602)))

        assert_rate_limited(refused, "user", 2)
        assert await all_rows(app) == []


async def test_failed_authentication_counts_against_the_address(start_app: StartApp) -> None:
    async with start_app(rate_limit_anonymous="2/minute") as (app, client):
        failures = [await post_task(client, bearer(f"guess-{n}")) for n in range(2)]
        guess = await post_task(client, bearer("guess-3"))

        assert [response.status_code for response in failures] == [401, 401]
        assert failures[1].headers["RateLimit"] == '"address";r=0'
        assert_rate_limited(guess, "address", 2)
        assert await all_rows(app) == []


async def test_invalid_tokens_cannot_lock_a_valid_one_out_of_the_address(
    start_app: StartApp,
) -> None:
    """Behind a NAT, five bad tokens must not lock out every user: a token never seen before
    is verified even from an address past its quota, and only a failure counts against it."""
    async with start_app(rate_limit_anonymous="5/minute") as (app, client):
        failures = [await post_task(client, bearer("garbage")) for _ in range(5)]
        fresh_valid_token = await post_task(client, auth(ALICE), "still works")
        still_garbage = await post_task(client, bearer("garbage"))

        assert [response.status_code for response in failures] == [401] * 5
        assert fresh_valid_token.status_code == 201, fresh_valid_token.text
        assert fresh_valid_token.json()["title"] == "still works"
        assert fresh_valid_token.headers["RateLimit-Policy"] == '"user";q=3000;w=60'
        assert_rate_limited(still_garbage, "address", 5)
        rows = await all_rows(app)
        assert [(row["user_id"], row["title"]) for row in rows] == [(ALICE, "still works")]


async def test_a_token_verified_before_still_works_from_a_limited_address(
    start_app: StartApp,
) -> None:
    async with start_app(rate_limit_anonymous="1/minute") as (app, client):
        token = token_for(ALICE)
        assert (await client.get("/api/tasks", headers=bearer(token))).status_code == 200
        assert (await client.get("/api/tasks")).status_code == 401
        assert (await client.get("/api/tasks")).status_code == 429

        created = await post_task(client, bearer(token))

        assert created.status_code == 201, created.text
        assert [row["user_id"] for row in await all_rows(app)] == [ALICE]


async def test_requests_without_a_token_are_limited_by_address(start_app: StartApp) -> None:
    async with start_app(rate_limit_anonymous="2/minute") as (app, client):
        statuses = [(await client.get("/openapi.json")).status_code for _ in range(2)]
        refused = await client.get("/api/tasks")

        assert statuses == [200, 200]
        assert_rate_limited(refused, "address", 2)


async def test_probes_are_never_limited(start_app: StartApp) -> None:
    async with start_app(rate_limit_anonymous="1/minute") as (app, client):
        responses = [
            await client.get(path) for path in ["/health", "/health/live", "/health/ready"] * 2
        ]

        assert [response.status_code for response in responses] == [200] * 6
        assert all("RateLimit" not in response.headers for response in responses)


async def test_off_means_no_limit_and_no_fields(start_app: StartApp) -> None:
    async with start_app(rate_limit="off", rate_limit_anonymous="off") as (app, client):
        responses = [await post_task(client, auth(ALICE)) for _ in range(5)]

        assert [response.status_code for response in responses] == [201] * 5
        assert all("RateLimit" not in response.headers for response in responses)
        assert len(await all_rows(app)) == 5


async def test_two_servers_share_one_limit_through_redis(
    start_app: StartApp, redis_settings: dict[str, object]
) -> None:
    settings = {"rate_limit": "3/minute", **redis_settings}
    async with start_app(**settings) as (app, first), start_app(**settings) as (_, second):
        statuses = [
            (await post_task(client, auth(ALICE))).status_code for client in (first, second, first)
        ]
        refused = await post_task(second, auth(ALICE))
        bob = await post_task(second, auth(BOB))

        assert statuses == [201, 201, 201]
        assert_rate_limited(refused, "user", 3)
        assert bob.status_code == 201
        assert sorted(row["user_id"] for row in await all_rows(app)) == sorted([ALICE] * 3 + [BOB])


async def test_an_unreachable_redis_lets_requests_through(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Fail open: the limiter protects capacity, it must not become the outage."""
    closed_port = socket.socket()
    closed_port.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    url = f"redis://127.0.0.1:{closed_port.getsockname()[1]}/0"
    with closed_port, caplog.at_level(logging.WARNING, logger="taskapi.ratelimit"):
        async with start_app(rate_limit="1/minute", redis_url=url) as (app, client):
            responses = [await post_task(client, auth(ALICE)) for _ in range(3)]
            rows = await all_rows(app)

    assert [response.status_code for response in responses] == [201] * 3
    assert all("RateLimit" not in response.headers for response in responses)
    assert len(rows) == 3
    [warning] = [r for r in caplog.records if r.name == "taskapi.ratelimit"]  # then skipped a while
    assert "Redis failed" in warning.getMessage()


def test_a_malformed_limit_is_refused_at_start() -> None:
    for bad in ("lots", "0/minute", "10/fortnight", "10 per minute"):
        with pytest.raises(ValidationError, match="rate_limit"):
            make_settings(rate_limit=bad)


def test_redis_url_must_name_redis() -> None:
    with pytest.raises(ValidationError, match="redis_url"):
        make_settings(redis_url="http://127.0.0.1:6379")
