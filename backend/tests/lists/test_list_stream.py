"""GET /api/events against real server processes: list changes and deletions arrive typed
(`list.created`, ...), with the tasks a deletion moved; /api/tasks/events never shows them."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.support.helpers import bearer, token_for
from tests.sync.test_events import (  # noqa: F401 (fixtures)
    GUARD_SECONDS,
    EventReader,
    Server,
    call,
    new_user,
    served_database,
    servers,
)


@asynccontextmanager
async def stream(server: Server, user: str, path: str) -> AsyncIterator[EventReader]:
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=GUARD_SECONDS) as client,
        client.stream("GET", path, headers=bearer(token_for(user))) as response,
    ):
        assert response.status_code == 200, await response.aread()
        yield EventReader(response)


async def test_list_events_travel_on_the_full_stream_only(servers: list[Server]) -> None:  # noqa: F811
    user = new_user()
    async with (
        stream(servers[0], user, "/api/events") as everything,
        stream(servers[0], user, "/api/tasks/events") as tasks_only,
    ):
        await everything.next()
        await tasks_only.next()
        # Each change read before the next is made: the stream compacts what it reads late.
        kept = (await call(servers[-1], "POST", "/api/lists", user, {"name": "kept"})).json()
        received = [await everything.next()]
        gone = (await call(servers[-1], "POST", "/api/lists", user, {"name": "gone"})).json()
        received.append(await everything.next())
        body = {"title": "t", "list_id": gone["id"]}
        task = (await call(servers[-1], "POST", "/api/tasks", user, body)).json()
        received.append(await everything.next())
        task_events = [await tasks_only.next()]
        moved = await call(
            servers[-1], "DELETE", f"/api/lists/{gone['id']}?move_to={kept['id']}", user
        )
        received += [await everything.next() for _ in range(2)]
        task_events.append(await tasks_only.next())
        renamed = (
            await call(servers[-1], "PUT", f"/api/lists/{kept['id']}", user, {"name": "k"})
        ).json()
        received.append(await everything.next())

    assert moved.status_code == 204
    assert [(event.name, event.data["id"]) for event in received] == [
        ("list.created", kept["id"]),
        ("list.created", gone["id"]),
        ("task.created", task["id"]),
        ("task.updated", task["id"]),
        ("list.deleted", gone["id"]),
        ("list.updated", kept["id"]),
    ]
    assert received[3].data["list_id"] == kept["id"]
    assert received[5].data == renamed
    assert [event.name for event in task_events] == ["created", "updated"]
    assert {event.data["id"] for event in task_events} == {task["id"]}
