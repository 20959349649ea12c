"""Helpers of the lists × subtasks tests: a small tree in a list, and what the database holds
of it (list ids, versions, the lists' counts) to compare before and after."""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.lists.helpers import events, list_rows
from tests.support.helpers import ALICE, all_rows, auth, create_task


async def tree_in(client: httpx.AsyncClient, list_id: str | None) -> list[dict[str, Any]]:
    """A parent, its open child and its completed grandchild, all in `list_id`."""
    parent = await create_task(client, title="parent", list_id=list_id)
    child = await create_task(client, title="child", parent_id=parent["id"])
    grandchild = await create_task(
        client, title="grandchild", parent_id=child["id"], is_completed=True
    )
    return [parent, child, grandchild]


async def lists_of(app: FastAPI, tasks: list[dict[str, Any]]) -> list[str | None]:
    """Each task's stored list id, in the order given."""
    stored = {str(row["id"]): row for row in await all_rows(app)}
    return [_text(stored[task["id"]]["list_id"]) for task in tasks]


async def counts(app: FastAPI) -> dict[str, tuple[int, int]]:
    """Each list's (task_count, open_task_count), by name."""
    return {
        row["name"]: (row["task_count"], row["open_task_count"]) for row in await list_rows(app)
    }


async def snapshot(app: FastAPI) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return await all_rows(app), await list_rows(app), await events(app)


async def changed_since(client: httpx.AsyncClient, token: str | None) -> dict[str, Any]:
    query = "" if token is None else f"?since={token}"
    response = await client.get(f"/api/changes{query}", headers=auth(ALICE))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def sync_token(client: httpx.AsyncClient) -> str:
    token: str = (await changed_since(client, None))["next_token"]
    return token


def _text(value: object) -> str | None:
    return None if value is None else str(value)
