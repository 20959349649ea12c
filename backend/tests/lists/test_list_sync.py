"""Lists in sync: /api/changes carries lists and their deletions beside tasks, with the same
tokens; /api/tasks/changes answers exactly as before lists existed."""

import uuid

import httpx
from fastapi import FastAPI

from tests.lists.helpers import create_list
from tests.support.helpers import ALICE, auth, create_task


async def changes(client: httpx.AsyncClient, path: str, since: str | None = None) -> dict:  # type: ignore[type-arg]
    query = "" if since is None else f"?since={since}"
    response = await client.get(f"{path}{query}", headers=auth(ALICE))
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_the_tasks_feed_is_unchanged_by_lists(client: httpx.AsyncClient) -> None:
    start = (await changes(client, "/api/tasks/changes"))["next_token"]
    home = await create_list(client)
    task = await create_task(client, list_id=home["id"])
    await client.delete(f"/api/lists/{home['id']}?tasks=delete", headers=auth(ALICE))
    other = await create_list(client)

    body = await changes(client, "/api/tasks/changes", start)

    assert set(body) == {"tasks", "deleted", "reminders_fired", "next_token", "has_more"}
    assert (body["tasks"], body["deleted"]) == ([], [task["id"]])
    assert other["id"] not in str(body)


async def test_the_full_feed_carries_lists_and_their_deletions(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    start = (await changes(client, "/api/changes"))["next_token"]
    kept, gone = await create_list(client, name="kept"), await create_list(client, name="gone")
    task = await create_task(client, list_id=gone["id"])
    await client.delete(f"/api/lists/{gone['id']}?move_to={kept['id']}", headers=auth(ALICE))

    body = await changes(client, "/api/changes", start)
    everything = await changes(client, "/api/changes")

    assert [item["id"] for item in body["lists"]] == [kept["id"]]
    assert body["lists"][0]["task_count"] == 1
    assert body["deleted_lists"] == [gone["id"]]
    assert [(item["id"], item["list_id"]) for item in body["tasks"]] == [(task["id"], kept["id"])]
    assert body["deleted"] == []
    assert [item["name"] for item in everything["lists"]] == ["kept"]
    assert everything["deleted_lists"] == []
    # One token space: the full feed's token works on the tasks feed and the other way round.
    tasks_only = await changes(client, "/api/tasks/changes", body["next_token"])
    assert tasks_only["tasks"] == []
    assert uuid.UUID(body["lists"][0]["id"])


async def test_the_full_feed_pages_in_change_order(client: httpx.AsyncClient) -> None:
    start = (await changes(client, "/api/changes"))["next_token"]
    first = await create_list(client, name="1")
    task = await create_task(client, list_id=first["id"])
    second = await create_list(client, name="2")

    seen: list[str] = []
    token = start
    while True:
        response = await client.get(f"/api/changes?since={token}&limit=1", headers=auth(ALICE))
        body = response.json()
        seen += [item["id"] for item in body["lists"] + body["tasks"]]
        token = body["next_token"]
        if not body["has_more"]:
            break

    assert seen == [first["id"], task["id"], second["id"]]
