"""Helpers of the subtask tests: create, move, and read the tree as stored."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import Event, Task
from tests.support.helpers import ALICE, auth, create_task, sessionmaker_of


async def subtask(client: httpx.AsyncClient, parent: dict[str, Any], **body: Any) -> dict[str, Any]:
    return await create_task(client, parent_id=parent["id"], **body)


async def move(
    client: httpx.AsyncClient, task: dict[str, Any], user: str = ALICE, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/tasks/{task['id']}/move", json=body, headers=auth(user))


async def rows(app: FastAPI) -> dict[str, Task]:
    """Every stored task by id (as a string), whoever owns it."""
    async with sessionmaker_of(app)() as session:
        return {str(task.id): task for task in (await session.scalars(select(Task))).all()}


async def events(app: FastAPI) -> list[Event]:
    async with sessionmaker_of(app)() as session:
        return list((await session.scalars(select(Event).order_by(Event.seq))).all())  # type: ignore[arg-type]


async def children_ids(client: httpx.AsyncClient, parent: str, user: str = ALICE) -> list[str]:
    """The parent's children (`none`: the top level) in position order, through the API."""
    response = await client.get(
        "/api/tasks",
        params={"parent": parent, "sort": "position", "limit": 500},
        headers=auth(user),
    )
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()]
