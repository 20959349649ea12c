"""One Principal per request: the token is verified once whoever asks (the rate limit, the
route, the event stream), a refusal is not verified again, and nothing in the app reads a
token without verifying it."""

import ast
import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.auth.principal import Principal
from app.auth.verifier import TokenVerifier, Verified
from tests.conftest import StartApp
from tests.support.helpers import (
    ALICE,
    all_tasks,
    assert_401,
    bearer,
    post_task,
    token_for,
    token_verifier_of,
)

APP = Path(__file__).resolve().parents[2] / "app"

# --- nothing reads a token unverified ------------------------------------------------------


def unverified_decodes(source: str) -> Iterator[str]:
    """Calls that read a JWT without checking its signature, by line: PyJWT's unverified
    readers, any `verify_signature` option, and a `decode` of a JWT without pinned algorithms."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        keywords = {keyword.arg for keyword in node.keywords}
        options = [
            key.value
            for keyword in node.keywords
            if keyword.arg == "options" and isinstance(keyword.value, ast.Dict)
            for key in keyword.value.keys
            if isinstance(key, ast.Constant)
        ]
        receiver = ast.unparse(node.func.value)
        if name in {"get_unverified_header", "decode_complete"} or "verify_signature" in options:
            yield f"line {node.lineno}: {ast.unparse(node)}"
        elif name == "decode" and "jwt" in receiver.lower() and "algorithms" not in keywords:
            yield f"line {node.lineno}: {ast.unparse(node)}"


def test_the_scan_finds_an_unverified_decode() -> None:
    found = list(unverified_decodes('claims = jwt.decode(t, options={"verify_signature": False})'))
    assert found == ["line 1: jwt.decode(t, options={'verify_signature': False})"]
    assert list(unverified_decodes("jwt.get_unverified_header(t)"))
    assert list(unverified_decodes("jwt.decode(t, key)"))  # no pinned algorithm
    assert not list(unverified_decodes('jwt.decode(t, key, algorithms=["HS256"])'))
    assert not list(unverified_decodes('value.decode("latin-1")'))


def test_no_module_decodes_a_jwt_without_verifying_it() -> None:
    modules = sorted(APP.rglob("*.py"))
    assert len(modules) > 50  # the scan sees the app, not an empty folder
    found = {
        str(module.relative_to(APP)): hits
        for module in modules
        if (hits := list(unverified_decodes(module.read_text())))
    }
    assert found == {}


# --- verified once per request -------------------------------------------------------------


class Counts:
    def __init__(self) -> None:
        self.verifies = 0
        self.signature_checks = 0


def count_verifications(verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch) -> Counts:
    """Counts calls to the running app's verifier (the real one, still doing the work)."""
    counts = Counts()
    verify, decode = verifier.verify, verifier._decode

    async def counted_verify(token: str) -> Principal:
        counts.verifies += 1
        return await verify(token)

    def counted_decode(*args: Any) -> dict[str, Any]:
        counts.signature_checks += 1
        return decode(*args)

    monkeypatch.setattr(verifier, "verify", counted_verify)
    monkeypatch.setattr(verifier, "_decode", counted_decode)
    return counts


RATE_LIMITS = [pytest.param("3000/minute", id="rate-limit-on"), pytest.param("off", id="off")]


@pytest.mark.parametrize("rate_limit", RATE_LIMITS)
async def test_a_token_is_verified_once_per_request(
    start_app: StartApp, monkeypatch: pytest.MonkeyPatch, rate_limit: str
) -> None:
    async with start_app(rate_limit=rate_limit) as (app, client):
        counts = count_verifications(token_verifier_of(app), monkeypatch)
        token = token_for(ALICE)

        first = await post_task(client, bearer(token), "first")
        after_first = (counts.verifies, counts.signature_checks)
        second = await post_task(client, bearer(token), "second")

        assert (first.status_code, second.status_code) == (201, 201), second.text
        assert first.json()["title"] == "first"
        assert after_first == (1, 1)  # one verification, one signature check
        assert (counts.verifies, counts.signature_checks) == (2, 1)  # then remembered
        tasks = await all_tasks(app)
        assert sorted((task.user_id, task.title) for task in tasks) == [
            (ALICE, "first"),
            (ALICE, "second"),
        ]


@pytest.mark.parametrize("rate_limit", RATE_LIMITS)
async def test_a_refused_token_is_checked_once_per_request(
    start_app: StartApp, monkeypatch: pytest.MonkeyPatch, rate_limit: str
) -> None:
    async with start_app(rate_limit=rate_limit) as (app, client):
        counts = count_verifications(token_verifier_of(app), monkeypatch)
        header, payload, _ = token_for(ALICE).split(".")
        forged = f"{header}.{payload}.AAAA"

        response = await post_task(client, bearer(forged))

        assert_401(response, "INVALID_TOKEN")
        assert (counts.verifies, counts.signature_checks) == (1, 1)
        assert await all_tasks(app) == []


# --- the event stream ends when the Principal expires ---------------------------------------


def stream_events(body: str) -> list[tuple[str, str]]:
    """(event, data) of each event of a text/event-stream body, comments left out."""
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line[:1] != ":")
        if "event" in fields:
            events.append((fields["event"], fields.get("data", "")))
    return events


async def test_the_event_stream_ends_when_the_principal_expires(start_app: StartApp) -> None:
    """The stream's deadline is the Principal's expiry, not a second reading of the token:
    here the verifier remembers a Principal that expires in a second for a token whose `exp`
    is an hour away, and the stream ends within the second."""
    token = token_for(ALICE)  # exp: in an hour
    principal = Principal(ALICE, expires_at=time.time() + 1)
    async with start_app(jwt_leeway_seconds=0) as (app, client):
        remember: Callable[[str, Verified], None] = token_verifier_of(app)._verified.put
        remember(token, Verified(principal, time.time() + 3600, None))

        async with asyncio.timeout(10):  # the token's own exp would keep it open an hour
            response = await client.get("/api/tasks/events", headers=bearer(token))

        assert response.status_code == 200
        events = stream_events(response.text)
        assert [name for name, _ in events] == ["ready", "close"]
        assert '"error_code":"TOKEN_EXPIRED"' in events[-1][1]
        assert await all_tasks(app) == []
