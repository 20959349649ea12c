"""/api/webhooks as a resource: the secret shown once, owner-scoped (403 / 404), limits, and
URLs refused when they point inside (checked against a stubbed resolver: no connection)."""

import base64
import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.webhooks.ssrf import SystemResolver
from tests.support.clock import CLOCK
from tests.support.helpers import ALICE, BOB, assert_error, auth
from tests.webhooks.helpers import PUBLIC, create_webhook, rows, stub_dns


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_webhooks_per_user": 2, "max_webhook_event_types": 3}


@pytest.fixture(autouse=True)
def public_dns(app: FastAPI) -> None:
    stub_dns(app, hooks_example=[PUBLIC], other_example=[PUBLIC])


async def test_create_shows_the_secret_once(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await create_webhook(
        client, event_types=["task.created", "reminder.fired"], description="bot"
    )

    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) >= 24
    assert created["enabled"] is True
    assert created["description"] == "bot"
    read = await client.get(f"/api/webhooks/{created['id']}", headers=auth(ALICE))
    listed = await client.get("/api/webhooks", headers=auth(ALICE))
    assert read.status_code == 200
    assert "secret" not in read.json()
    assert [hook["id"] for hook in listed.json()] == [created["id"]]
    assert "secret" not in listed.json()[0]
    (stored,) = await rows(app, "webhook_endpoints")
    assert (stored["user_id"], stored["secret"]) == (ALICE, secret)


async def test_update_and_delete(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await create_webhook(client)
    url = f"/api/webhooks/{created['id']}"

    updated = await client.put(
        url, json={"event_types": ["task.deleted"], "enabled": False}, headers=auth(ALICE)
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["event_types"], updated.json()["enabled"]) == (["task.deleted"], False)
    assert updated.json()["disabled_reason"] == "manual"
    assert (await client.delete(url, headers=auth(ALICE))).status_code == 204
    assert await rows(app, "webhook_endpoints") == []
    assert_error(await client.get(url, headers=auth(ALICE)), 404, "WEBHOOK_NOT_FOUND")


async def test_rotation_keeps_the_old_secret_for_the_overlap(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    created = await create_webhook(client)

    rotated = await client.post(f"/api/webhooks/{created['id']}/rotate-secret", headers=auth(ALICE))

    assert rotated.status_code == 200
    new = rotated.json()
    assert new["secret"] != created["secret"]
    assert new["secret"].startswith("whsec_")
    (stored,) = await rows(app, "webhook_endpoints")
    assert (stored["secret"], stored["previous_secret"]) == (new["secret"], created["secret"])
    overlap = stored["previous_secret_until"] - CLOCK()
    assert 23 * 3600 < overlap.total_seconds() <= 24 * 3600


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"description": "mine"}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("POST", "/ping", None),
        ("GET", "/deliveries", None),
    ],
)
async def test_another_users_webhook_is_403_and_untouched(
    client: httpx.AsyncClient, app: FastAPI, method: str, suffix: str, body: object
) -> None:
    theirs = await create_webhook(client, BOB)
    before = await rows(app, "webhook_endpoints"), await rows(app, "webhook_deliveries")

    response = await client.request(
        method, f"/api/webhooks/{theirs['id']}{suffix}", json=body, headers=auth(ALICE)
    )

    assert_error(response, 403, "WEBHOOK_FORBIDDEN")
    assert (await rows(app, "webhook_endpoints"), await rows(app, "webhook_deliveries")) == before
    listed = await client.get("/api/webhooks", headers=auth(ALICE))
    assert listed.json() == []


async def test_missing_or_malformed_ids_are_404(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/api/webhooks/{uuid.uuid4()}", headers=auth(ALICE))
    malformed = await client.get("/api/webhooks/nope", headers=auth(ALICE))
    created = await create_webhook(client)
    no_delivery = await client.post(
        f"/api/webhooks/{created['id']}/deliveries/{uuid.uuid4()}/retry", headers=auth(ALICE)
    )

    assert_error(missing, 404, "WEBHOOK_NOT_FOUND")
    assert_error(malformed, 404, "WEBHOOK_NOT_FOUND")
    assert_error(no_delivery, 404, "DELIVERY_NOT_FOUND")


async def test_limits_per_user(client: httpx.AsyncClient, app: FastAPI) -> None:
    await create_webhook(client)
    await create_webhook(client)
    too_many = await client.post(
        "/api/webhooks",
        json={"url": "http://hooks.example/3", "event_types": ["task.created"]},
        headers=auth(ALICE),
    )
    too_many_types = await client.post(
        "/api/webhooks",
        json={
            "url": "http://hooks.example/4",
            "event_types": ["task.created", "task.updated", "task.deleted", "list.created"],
        },
        headers=auth(BOB),
    )

    assert_error(too_many, 409, "WEBHOOK_QUOTA_EXCEEDED")
    assert_error(too_many_types, 400, "VALIDATION_ERROR", mentions=("event_types",))
    assert len(await rows(app, "webhook_endpoints")) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://hooks.example/in", "event_types": []},
        {"url": "http://hooks.example/in", "event_types": ["task.exploded"]},
        {"url": "http://hooks.example/in", "event_types": ["task.created", "task.created"]},
        {"url": "http://hooks.example/in", "event_types": ["task.created"], "extra": 1},
        {"url": "http://hooks.example/" + "a" * 2100, "event_types": ["task.created"]},
        {"event_types": ["task.created"]},
    ],
)
async def test_invalid_bodies_are_400_and_write_nothing(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, object]
) -> None:
    response = await client.post("/api/webhooks", json=body, headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR")
    assert await rows(app, "webhook_endpoints") == []


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("ftp://hooks.example/in", [PUBLIC]),
        ("file:///etc/passwd", []),
        ("http://user:pw@hooks.example/in", [PUBLIC]),
        ("http://127.0.0.1:8080/", []),
        ("http://[::1]/", []),
        ("http://169.254.169.254/latest/meta-data/", []),
        ("http://internal.example/", ["10.1.2.3"]),
        ("http://internal.example/", [PUBLIC, "192.168.1.5"]),
        ("http://internal.example/", ["fd00:ec2::254"]),
        ("http://internal.example/", ["::ffff:127.0.0.1"]),
        ("http://internal.example/", ["100.100.100.200"]),
        ("http://internal.example/", []),  # resolves to nothing
    ],
)
async def test_urls_that_point_inside_are_refused(
    client: httpx.AsyncClient, app: FastAPI, url: str, answers: list[str]
) -> None:
    stub_dns(app, internal_example=answers, hooks_example=answers)

    response = await client.post(
        "/api/webhooks", json={"url": url, "event_types": ["task.created"]}, headers=auth(ALICE)
    )

    assert_error(response, 400, "WEBHOOK_URL_REFUSED")
    assert await rows(app, "webhook_endpoints") == []


async def test_a_url_changed_to_point_inside_is_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    created = await create_webhook(client)
    stub_dns(app, internal_example=["10.0.0.7"])

    response = await client.put(
        f"/api/webhooks/{created['id']}",
        json={"url": "http://internal.example/"},
        headers=auth(ALICE),
    )

    assert_error(response, 400, "WEBHOOK_URL_REFUSED")
    (stored,) = await rows(app, "webhook_endpoints")
    assert stored["url"] == "http://hooks.example/in"


async def test_a_name_dns_cannot_carry_resolves_to_nothing() -> None:
    """Refused before any query: IDNA cannot encode a 70-character label."""
    assert await SystemResolver().resolve("a" * 70 + ".example", 80) == []
