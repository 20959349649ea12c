"""Property-based: any filter and sort, walked page by page with cursors while tasks are
created, updated and deleted between pages, never yields a task twice, never skips a task that
existed unchanged for the whole walk, and keeps the order a direct query gives. Both databases.

Hypothesis is synchronous and the app lives on the test's event loop: as in
test_schemathesis.py, the examples run in a worker thread that hands each request back to the
loop."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.helpers import ALICE, BOB, auth, delete_all_tasks

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("hypothesis_home")]

MAX_EXAMPLES = 40  # per database
T = TypeVar("T")

TITLES = ["alpha", "Beta", "straße", "STRASSE", "é%", "e_", "😀 z", "Zulu"]
TAGS = ["work", "Home", "ß"]
DUE: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.sampled_from(["2020-05-01", "2030-01-01", "2030-01-02"]).map(lambda d: {"due_date": d}),
    st.sampled_from(["2020-05-01T10:00:00+02:00", "2030-01-01T23:30:00-05:00"]).map(
        lambda t: {"due_at": t}
    ),
)
PRIORITY = st.sampled_from(["none", "low", "medium", "high"])


@st.composite
def task_bodies(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "title": draw(st.sampled_from(TITLES)),
        "description": draw(st.sampled_from([None, "Straße", "100%"])),
        "is_completed": draw(st.booleans()),
        "priority": draw(PRIORITY),
        "tags": draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=2)),
        **draw(DUE),
    }


@st.composite
def queries(draw: st.DrawFn) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    sometimes = st.integers(0, 3).map(lambda n: n == 0)  # each filter in a quarter of walks
    if draw(sometimes):
        params.append(("completed", draw(st.sampled_from(["true", "false"]))))
    if draw(sometimes):
        params += [("priority", p) for p in draw(st.lists(PRIORITY, unique=True, max_size=3))]
    if draw(sometimes):
        params.append(("tag", draw(st.sampled_from(["WORK", "home"]))))
    if draw(sometimes):
        params.append(("due_before", draw(st.sampled_from(["2030-01-02", "2025-01-01T00:00Z"]))))
    if draw(sometimes):
        params.append(("due_after", "2020-05-01"))
    if draw(sometimes):
        params.append(("overdue", "true"))
    if draw(sometimes):
        params.append(("q", draw(st.sampled_from(["STRASSE", "%", "e", "😀"]))))
    keys = ["created_at", "updated_at", "due", "priority", "title"]
    params.append(("sort", draw(st.sampled_from(keys + [f"-{key}" for key in keys]))))
    return params


# Between two pages: create a task, change one field of a task, or delete one.
WRITES = st.lists(
    st.one_of(
        task_bodies().map(lambda body: ("create", 0, body)),
        st.tuples(
            st.just("update"),
            st.integers(0, 30),
            st.one_of(
                st.sampled_from(TITLES).map(lambda t: {"title": t}),
                PRIORITY.map(lambda p: {"priority": p}),
                st.booleans().map(lambda c: {"is_completed": c}),
                DUE.filter(bool),
                st.lists(st.sampled_from(TAGS), unique=True, max_size=2).map(lambda t: {"tags": t}),
            ),
        ),
        st.tuples(st.just("delete"), st.integers(0, 30), st.just({})),
    ),
    max_size=12,
)


class Walker:
    """Runs one example's requests on the app's loop."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop):
        self.app, self.client, self.loop = app, client, loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.client.request(method, url, headers=auth(ALICE), **kwargs))

    def create(self, body: dict[str, Any], user: str = ALICE) -> str:
        response = self.run(self.client.post("/api/tasks", json=body, headers=auth(user)))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def write(self, kind: str, target: str | None, body: dict[str, Any]) -> None:
        if kind == "create":
            self.create(body)
        elif kind == "update" and target is not None:
            assert self.request("PUT", f"/api/tasks/{target}", json=body).status_code == 200
        elif kind == "delete" and target is not None:
            assert self.request("DELETE", f"/api/tasks/{target}").status_code == 204


async def test_cursor_walks_match_a_direct_query_despite_writes_between_pages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    walker = Walker(app, client, asyncio.get_running_loop())

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: examples write to a shared database
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        initial=st.lists(task_bodies(), min_size=4, max_size=16),
        query=queries(),
        limit=st.integers(1, 3),
        writes=st.lists(WRITES, min_size=1, max_size=8),
    )
    def walk(
        initial: list[dict[str, Any]],
        query: list[tuple[str, str]],
        limit: int,
        writes: list[list[tuple[str, int, dict[str, Any]]]],
    ) -> None:
        walker.run(delete_all_tasks(app))
        ids = [walker.create(body) for body in initial]
        for body in initial[:3]:  # Bob's look-alikes: never part of Alice's walk
            walker.create(body, BOB)
        touched: set[str] = set()  # updated or deleted during the walk
        alive = list(ids)

        seen: list[str] = []
        url: str | None = f"/api/tasks?{urlencode([*query, ('limit', str(limit))])}"
        pages = 0
        while url is not None:
            response = walker.request("GET", url)
            assert response.status_code == 200, response.text
            assert all(task["user_id"] == ALICE for task in response.json())
            seen += [task["id"] for task in response.json()]
            url = response.links.get("next", {}).get("url")
            assert len(response.json()) == limit or url is None
            if pages < len(writes):
                for kind, index, body in writes[pages]:
                    target = alive[index % len(alive)] if alive and kind != "create" else None
                    if target is not None:
                        touched.add(target)
                        if kind == "delete":
                            alive.remove(target)
                    walker.write(kind, target, body)
            pages += 1
            assert pages <= 60

        direct = walker.request("GET", f"/api/tasks?{urlencode([*query, ('limit', '500')])}")
        assert direct.status_code == 200
        assert "link" not in direct.headers
        untouched_direct = [
            t["id"] for t in direct.json() if t["id"] in ids and t["id"] not in touched
        ]

        assert len(seen) == len(set(seen)), "a task came twice"
        assert [task_id for task_id in seen if task_id in untouched_direct] == untouched_direct
        assert not set(seen) - set(ids) - touched, "a task created during the walk was returned"

    await asyncio.to_thread(walk)
