import httpx
from fastapi import FastAPI

from tests.support.helpers import ALICE, all_tasks, auth


async def test_create_then_list(app: FastAPI, client: httpx.AsyncClient) -> None:
    created = await client.post("/api/tasks", json={"title": "Buy milk"}, headers=auth(ALICE))
    assert created.status_code == 201, created.text
    listed = await client.get("/api/tasks", headers=auth(ALICE))
    assert listed.status_code == 200
    assert [task["title"] for task in listed.json()] == ["Buy milk"]
    assert [(t.user_id, t.title) for t in await all_tasks(app)] == [(ALICE, "Buy milk")]
