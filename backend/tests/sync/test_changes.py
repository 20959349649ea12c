"""Delta sync: GET /api/tasks/changes, tombstones, paging, expiry (410), and the guarantee under
concurrent writers and out-of-order commits."""

import asyncio
import random
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import Event
from app.state import app_state
from app.sync.retention import purge_expired
from app.sync.tokens import token_of
from app.tasks import repository
from tests.support.clock import now as clock_now
from tests.support.helpers import (
    ALICE,
    BOB,
    all_tasks,
    assert_error,
    auth,
    create_task,
    sessionmaker_of,
)


async def changes(
    client: httpx.AsyncClient, since: str | None = None, user: str = ALICE, limit: int = 100
) -> dict[str, Any]:
    query = f"?limit={limit}" + ("" if since is None else f"&since={since}")
    response = await client.get(f"/api/tasks/changes{query}", headers=auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_without_a_token_every_task_and_a_token(client: httpx.AsyncClient) -> None:
    tasks = [await create_task(client, title=f"t{i}") for i in range(3)]

    first = await changes(client)
    again = await changes(client, first["next_token"])

    assert first["tasks"] == tasks
    assert first["deleted"] == []
    assert first["has_more"] is False
    assert again == {**first, "tasks": []}


async def test_changes_since_a_token_are_the_latest_states_and_the_deleted_ids(
    client: httpx.AsyncClient,
) -> None:
    kept = await create_task(client, title="kept")
    changed = await create_task(client, title="before")
    gone = await create_task(client, title="gone")
    token = (await changes(client))["next_token"]

    await client.put(f"/api/tasks/{changed['id']}", json={"title": "a"}, headers=auth(ALICE))
    latest = await client.put(
        f"/api/tasks/{changed['id']}", json={"title": "b"}, headers=auth(ALICE)
    )
    await client.put(f"/api/tasks/{kept['id']}", json={"title": "kept"}, headers=auth(ALICE))
    await client.delete(f"/api/tasks/{gone['id']}", headers=auth(ALICE))
    new = await create_task(client, title="new")
    delta = await changes(client, token)

    assert delta["tasks"] == [latest.json(), new]  # the no-op update of `kept` is no change
    assert delta["deleted"] == [gone["id"]]
    assert (await changes(client, delta["next_token"]))["tasks"] == []


async def test_a_task_created_and_deleted_between_syncs_is_only_a_tombstone(
    client: httpx.AsyncClient,
) -> None:
    token = (await changes(client))["next_token"]
    task = await create_task(client)
    await client.delete(f"/api/tasks/{task['id']}", headers=auth(ALICE))

    delta = await changes(client, token)

    assert (delta["tasks"], delta["deleted"]) == ([], [task["id"]])


async def test_large_deltas_come_in_pages_linked_by_tokens(client: httpx.AsyncClient) -> None:
    token = (await changes(client))["next_token"]
    created = [await create_task(client, title=f"t{i}") for i in range(5)]
    await client.delete(f"/api/tasks/{created[1]['id']}", headers=auth(ALICE))

    pages: list[dict[str, Any]] = []
    url: str | None = f"/api/tasks/changes?since={token}&limit=2"
    while url:
        response = await client.get(url, headers=auth(ALICE))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = response.links.get("next", {}).get("url")

    # Four tasks and one tombstone, two at a time.
    assert [page["has_more"] for page in pages] == [True, True, False]
    assert [task["id"] for page in pages for task in page["tasks"]] == [
        task["id"] for task in created if task is not created[1]
    ]
    assert [task_id for page in pages for task_id in page["deleted"]] == [created[1]["id"]]


async def test_a_users_changes_never_include_another_users(client: httpx.AsyncClient) -> None:
    token = (await changes(client, user=BOB))["next_token"]
    alices = await create_task(client, ALICE)
    await client.delete(f"/api/tasks/{alices['id']}", headers=auth(ALICE))
    bobs = await create_task(client, BOB)

    everything = await changes(client, user=BOB)
    delta = await changes(client, token, user=BOB)

    assert everything["tasks"] == delta["tasks"] == [bobs]
    assert delta["deleted"] == []


@pytest.mark.parametrize(
    "since",
    [
        "garbage",
        "djEuMQ",  # "v1.1": no user hash
        token_of(-1, ALICE),
        token_of(1, ALICE) + "x",
        token_of(1, ALICE) + "==",
        token_of(1, BOB),
        "\u00e9",
    ],
)
async def test_a_token_the_api_did_not_give_is_400(
    app: FastAPI, client: httpx.AsyncClient, since: str
) -> None:
    response = await client.get("/api/tasks/changes", params={"since": since}, headers=auth(ALICE))

    assert_error(response, 400, "INVALID_SYNC_TOKEN")


async def test_another_users_token_is_400(client: httpx.AsyncClient) -> None:
    await create_task(client, BOB)
    bobs_token = (await changes(client, user=BOB))["next_token"]

    response = await client.get(
        "/api/tasks/changes", params={"since": bobs_token}, headers=auth(ALICE)
    )

    assert_error(response, 400, "INVALID_SYNC_TOKEN")


async def test_a_token_beyond_the_users_changes_is_410(client: httpx.AsyncClient) -> None:
    """From another database (a restored backup): the client must start again."""
    await create_task(client)

    response = await client.get(
        "/api/tasks/changes", params={"since": token_of(99, ALICE)}, headers=auth(ALICE)
    )

    assert_error(response, 410, "SYNC_TOKEN_EXPIRED")


async def test_changes_needs_a_token_and_is_not_taken_for_a_task_id(
    client: httpx.AsyncClient,
) -> None:
    assert_error(await client.get("/api/tasks/changes"), 401, "NOT_AUTHENTICATED")


async def test_after_tombstones_expire_an_older_token_is_410_and_a_fresh_sync_works(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client)
    old_token = (await changes(client))["next_token"]
    await client.delete(f"/api/tasks/{task['id']}", headers=auth(ALICE))
    recent = (await changes(client))["next_token"]
    async with sessionmaker_of(app)() as session:
        month_ago = clock_now() - timedelta(days=31)
        await session.execute(update(Event).values(occurred_at=month_ago))
        await session.commit()
    state = app_state(app)

    await purge_expired(state.database, state.settings)

    expired = await client.get(
        "/api/tasks/changes", params={"since": old_token}, headers=auth(ALICE)
    )
    assert_error(expired, 410, "SYNC_TOKEN_EXPIRED")
    assert (await changes(client, recent))["deleted"] == []
    fresh = await changes(client)
    assert (fresh["tasks"], fresh["next_token"]) == ([], recent)


async def test_live_tombstones_are_kept_by_the_purge(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    task = await create_task(client)
    token = (await changes(client))["next_token"]
    await client.delete(f"/api/tasks/{task['id']}", headers=auth(ALICE))
    state = app_state(app)

    await purge_expired(state.database, state.settings)

    assert (await changes(client, token))["deleted"] == [task["id"]]


# --- the guarantee ----------------------------------------------------------------------------


async def test_a_client_following_tokens_under_concurrent_writers_ends_with_the_truth(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Writers create, update and delete at once while a client syncs again and again: it never
    sees a change older than one it has, and in the end its copy is exactly the table."""
    replica: dict[str, dict[str, Any]] = {}
    versions: dict[str, int] = {}
    writing = True

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        for step in range(25):
            if not mine or rng.random() < 0.4:
                mine.append((await create_task(client, title=f"w{seed} {step}"))["id"])
            elif rng.random() < 0.7:
                body = {"title": f"w{seed} {step}", "is_completed": rng.random() < 0.5}
                await client.put(f"/api/tasks/{rng.choice(mine)}", json=body, headers=auth(ALICE))
            else:
                await client.delete(f"/api/tasks/{mine.pop()}", headers=auth(ALICE))

    async def sync(token: str | None) -> str:
        delta = await changes(client, token, limit=7)
        for task in delta["tasks"]:
            version = int(task["etag"].strip('"'))
            assert version > versions.get(task["id"], -1), "a change older than one seen"
            versions[task["id"]] = version
            replica[task["id"]] = task
        for task_id in delta["deleted"]:
            replica.pop(task_id, None)
        return str(delta["next_token"])

    async def follower() -> None:
        token = None
        while writing:
            token = await sync(token)
        for _ in range(100):  # drain the pages after the last write
            previous, token = token, await sync(token)
            if token == previous:
                break

    following = asyncio.create_task(follower())
    await asyncio.gather(*(writer(seed) for seed in range(4)))
    writing = False
    await following

    stored = {str(task.id): task for task in await all_tasks(app)}
    assert set(replica) == set(stored)
    for task_id, task in replica.items():
        assert (task["title"], task["is_completed"]) == (
            stored[task_id].title,
            stored[task_id].is_completed,
        )


async def _wait_until_blocked(app: FastAPI) -> None:
    """PostgreSQL: until a statement waits for a lock (the blocked write). SQLite's blocked
    writer retries in its driver thread; it cannot be observed, and it does not matter."""
    database = app_state(app).database
    if database.is_sqlite:
        await asyncio.sleep(0.1)
        return
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    for _ in range(500):
        async with database.connect() as connection:
            if await connection.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the second write never waited for the first")


async def test_a_write_that_commits_late_is_not_skipped(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The out-of-order interleaving: write A takes its number and stays uncommitted, write B
    starts after it, a client syncs, A commits, B commits. The client's next sync has both."""
    first = await create_task(client, title="a")
    second = await create_task(client, title="b")
    token = (await changes(client))["next_token"]
    database = app_state(app).database

    async with database.transaction() as connection:  # write A, held open
        now = clock_now()
        task_id = uuid.UUID(first["id"])
        await repository.update_task(connection, ALICE, task_id, {"title": "A"}, now)
        write_b = asyncio.create_task(
            client.put(f"/api/tasks/{second['id']}", json={"title": "B"}, headers=auth(ALICE))
        )
        await _wait_until_blocked(app)
        during = await changes(client, token)
    assert (await write_b).status_code == 200
    after = await changes(client, during["next_token"])

    assert during["tasks"] == []  # neither is committed: nothing numbered after A is visible
    assert sorted(task["title"] for task in after["tasks"]) == ["A", "B"]


async def test_a_naive_sequence_read_before_commit_does_skip_that_write(postgres_url: str) -> None:
    """What the per-user counter prevents, shown on PostgreSQL with a plain global sequence:
    A takes 1 and stays open, B takes 2 and commits, a reader sees 2 and moves its token to 2,
    A commits: a reader asking "after 2" never sees 1."""
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as setup:
            await setup.execute(text("DROP TABLE IF EXISTS naive_changes"))
            await setup.execute(text("CREATE TABLE naive_changes (seq bigserial PRIMARY KEY)"))
        async with engine.connect() as a, engine.connect() as b, engine.connect() as reader:
            await a.execute(text("INSERT INTO naive_changes DEFAULT VALUES"))  # seq 1, open
            await b.execute(text("INSERT INTO naive_changes DEFAULT VALUES"))  # seq 2
            await b.commit()
            seen = list(await reader.scalars(text("SELECT seq FROM naive_changes ORDER BY seq")))
            await reader.commit()
            token = max(seen)
            await a.commit()
            later = list(
                await reader.scalars(
                    text("SELECT seq FROM naive_changes WHERE seq > :token"), {"token": token}
                )
            )
        assert (seen, token, later) == ([2], 2, [])  # seq 1 committed, and was never seen
    finally:
        async with engine.begin() as cleanup:
            await cleanup.execute(text("DROP TABLE IF EXISTS naive_changes"))
        await engine.dispose()
