"""The concurrent-move drill, shared by tests/subtasks/test_concurrent_moves.py (a few
seconds) and bench/concurrent_moves.py (a minute): N clients move the same tasks at random
(under another task or to the top level, after or before a random task, first or last), then
`check_tree` asserts what must hold whatever interleaving happened."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import Event, Task
from tests.support.helpers import ALICE, auth, sessionmaker_of


@dataclass
class DrillResult:
    moves: Counter[int] = field(default_factory=Counter)  # answers by status code


async def seed(client: httpx.AsyncClient, tasks: int) -> list[str]:
    ids = []
    for n in range(tasks):
        response = await client.post("/api/tasks", json={"title": f"t{n}"}, headers=auth(ALICE))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _random_move(ids: list[str], rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if rng.random() < 0.5:
        body["parent_id"] = rng.choice([None, *ids])
    place = rng.choice(["after", "before", "first", "last"])
    if place in ("after", "before"):
        body[place] = rng.choice(ids)
    else:
        body["place"] = place
    return body


async def run_drill(
    client: httpx.AsyncClient,
    ids: list[str],
    clients: int,
    seconds: float | None = None,
    seed_: int = 17,
    *,
    attempts: int | None = None,
) -> DrillResult:
    """`clients` coroutines move random tasks for `seconds`, or until `attempts` moves were
    sent (a test: however slow the machine, the same amount of work). Refusals (a cycle, an
    anchor that is not a sibling at that moment, the depth limit) are expected and counted."""
    result = DrillResult()
    deadline = None if seconds is None else time.monotonic() + seconds
    in_flight: set[int] = set()  # the clients waiting for an answer

    def more() -> bool:
        if attempts is not None and sum(result.moves.values()) + len(in_flight) >= attempts:
            return False
        return deadline is None or time.monotonic() < deadline

    async def one_client(number: int) -> None:
        rng = random.Random(seed_ * 1000 + number)
        while more():
            task = rng.choice(ids)
            in_flight.add(number)
            try:
                response = await client.post(
                    f"/api/tasks/{task}/move", json=_random_move(ids, rng), headers=auth(ALICE)
                )
            finally:
                in_flight.discard(number)
            result.moves[response.status_code] += 1

    await asyncio.gather(*(one_client(n) for n in range(clients)))
    return result


async def check_tree(app: FastAPI, client: httpx.AsyncClient, ids: list[str]) -> None:
    """Every task once; parents exist and form no cycle; the counts are the children's; each
    set of siblings in one strict order (position, then id) that the API lists too; and the
    events, replayed in order, end in exactly the stored parents and positions."""
    async with sessionmaker_of(app)() as session:
        tasks = {str(task.id): task for task in (await session.scalars(select(Task))).all()}
        events = (await session.scalars(select(Event).order_by(Event.seq))).all()  # type: ignore[arg-type]
    assert sorted(tasks) == sorted(ids)
    children: dict[str | None, list[Task]] = {}
    for task in tasks.values():
        parent = None if task.parent_id is None else str(task.parent_id)
        assert parent is None or parent in tasks
        children.setdefault(parent, []).append(task)
        seen, node = set(), task
        while node.parent_id is not None:  # terminates: no cycle
            assert str(node.id) not in seen
            seen.add(str(node.id))
            node = tasks[str(node.parent_id)]
    for task in tasks.values():
        mine = children.get(str(task.id), [])
        assert task.subtask_count == len(mine)
        assert task.open_subtask_count == sum(not child.is_completed for child in mine)
    for parent, siblings in children.items():
        order = sorted(siblings, key=lambda task: (task.position.encode(), task.id.hex))
        keys = [(task.position, task.id) for task in order]
        assert len(set(keys)) == len(keys)
        listed = await client.get(
            "/api/tasks",
            params={"parent": parent or "none", "sort": "position", "limit": 500},
            headers=auth(ALICE),
        )
        assert [task["id"] for task in listed.json()] == [str(task.id) for task in order]
    replayed: dict[str, tuple[Any, Any]] = {}
    for event in events:
        if event.kind == "deleted":
            replayed.pop(str(event.entity_id), None)
        else:
            replayed[str(event.entity_id)] = (event.state["parent_id"], event.state["position"])
    stored = {
        task_id: (None if task.parent_id is None else task.parent_id, task.position)
        for task_id, task in tasks.items()
    }
    assert {
        task_id: (None if parent is None else _uuid_text(parent), position)
        for task_id, (parent, position) in replayed.items()
    } == {
        task_id: (None if parent is None else parent.hex, position)
        for task_id, (parent, position) in stored.items()
    }


def _uuid_text(value: str) -> str:
    """A UUID as events hold it (PostgreSQL: with dashes; SQLite: 32 hex digits)."""
    return value.replace("-", "")
