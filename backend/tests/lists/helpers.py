"""Lists through the API, and their rows straight from the database (no owner filter)."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text

from app.models import TaskList
from tests.support.helpers import ALICE, auth, sessionmaker_of


async def create_list(client: httpx.AsyncClient, user: str = ALICE, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/lists", json={"name": "a list", **body}, headers=auth(user))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def list_rows(app: FastAPI) -> list[dict[str, Any]]:
    """Every list row, whoever owns it, in (user, position) order."""
    async with sessionmaker_of(app)() as session:
        rows = await session.scalars(select(TaskList).order_by(TaskList.user_id, TaskList.position))
        return [row.model_dump() for row in rows.all()]


async def events(app: FastAPI, entity_type: str | None = None) -> list[tuple[str, str, str]]:
    """(entity_type, kind, entity id as hex) of every event, in seq order."""
    async with sessionmaker_of(app)() as session:
        rows = await session.execute(
            text("SELECT entity_type, kind, entity_id FROM events ORDER BY scope_id, seq")
        )
        found = [(kind_of, kind, uuid.UUID(str(id_)).hex) for kind_of, kind, id_ in rows]
    return [event for event in found if entity_type in (None, event[0])]
