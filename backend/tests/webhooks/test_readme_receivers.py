"""The README's Python receiver, run as written: it accepts a delivery signed as the worker
signs it, and refuses one signed with another secret."""

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.webhooks.queue import Claimed
from app.webhooks.sender import Sender
from app.webhooks.service import new_secret
from tests.support.clock import wall_now
from tests.support.helpers import ALICE, make_settings
from tests.webhooks.helpers import StubResolver

README = Path(__file__).parents[3] / "README.md"


def python_receiver() -> str:
    text = README.read_text()
    start = text.index("A receiver in Python")
    block = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    assert block is not None
    return block.group(1)


async def post(app: Any, body: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        return await client.post("/taskapi", content=body, headers=headers)


async def test_the_python_receiver_verifies_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = new_secret()
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    namespace: dict[str, Any] = {}
    exec(python_receiver(), namespace)  # the README's code, as a reader would copy it
    sender = Sender(make_settings(), StubResolver())
    body = '{"type":"task.created","timestamp":"2026-12-06T00:00:00Z","data":{"id":"x"}}'
    signed = Claimed(uuid.uuid4(), uuid.uuid4(), ALICE, 1, body, "http://receiver", (secret,))
    forged = Claimed(signed.id, signed.endpoint_id, ALICE, 1, body, signed.url, (new_secret(),))

    accepted = await post(namespace["app"], body, sender.headers(signed, wall_now()))
    refused = await post(namespace["app"], body, sender.headers(forged, wall_now()))

    assert (accepted.status_code, refused.status_code) == (204, 401)
