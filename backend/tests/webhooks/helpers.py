"""Webhook tests' tools: a resolver that answers what a test says (no DNS, no connection),
direct reads of the webhook tables, and a create shortcut."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import metadata
from tests.support.helpers import ALICE, auth, sessionmaker_of

PUBLIC = "93.184.215.14"  # a public address: never connected to (tests stub DNS)


class StubResolver:
    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.get(host, [])


def stub_dns(app: FastAPI, **answers: list[str]) -> StubResolver:
    """The app resolves webhook hosts with this stub from now on (dots as underscores)."""
    resolver = StubResolver({name.replace("_", "."): ips for name, ips in answers.items()})
    app.state.webhook_resolver = resolver
    return resolver


async def rows(app: FastAPI, table: str) -> list[dict[str, Any]]:
    order = list(metadata.tables[table].primary_key.columns)
    async with sessionmaker_of(app)() as session:
        result = await session.execute(select(metadata.tables[table]).order_by(*order))
        return [dict(row._mapping) for row in result]


async def create_webhook(
    client: httpx.AsyncClient, user: str = ALICE, **body: Any
) -> dict[str, Any]:
    body = {"url": "http://hooks.example/in", "event_types": ["task.created"], **body}
    response = await client.post("/api/webhooks", json=body, headers=auth(user))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
