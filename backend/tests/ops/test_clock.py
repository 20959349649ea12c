"""Time comes from one clock: the app's rules read `Database.clock`, tests read
tests/support/clock.py.
The scan below keeps a wall-clock read from creeping back into either (the suite failed for
everyone on 2026-12-01 because a test compared literal dates with the day it ran)."""

import ast
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.clock import CLOCK, START
from tests.support.helpers import ALICE, auth, create_task

BACKEND = Path(__file__).resolve().parents[2]
WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today")}
# Where the wall clock is the right one: the clocks themselves, and token lifetimes (PyJWT
# checks `exp` and `iat` against the wall clock, so tokens are minted on it).
ALLOWED = {"app/clock.py", "app/auth/tokens.py", "tests/support/clock.py"}


def wall_clock_reads(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in WALL_CLOCK_CALLS
        ):
            lines.append(node.lineno)
    return lines


def test_nothing_but_the_clocks_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(BACKEND)}:{line}"
        for folder in ("app", "tests", "bench")
        for path in sorted((BACKEND / folder).rglob("*.py"))
        if str(path.relative_to(BACKEND)) not in ALLOWED
        for line in wall_clock_reads(path)
    ]
    assert offenders == [], "read tests.support.clock.now() (tests) or Database.clock (app) instead"


@pytest.mark.parametrize(
    ("moved_by", "overdue"),
    [(timedelta(0), []), (timedelta(days=5, hours=13), ["in five days"])],
)
async def test_overdue_is_decided_by_the_apps_clock(
    client: httpx.AsyncClient, moved_by: timedelta, overdue: list[str]
) -> None:
    """A task due 2026-12-01 is not overdue on the tests' start day, and is once the clock
    passes the end of that day: the machine's date plays no part."""
    await create_task(client, title="in five days", due_date="2026-12-01")
    CLOCK.advance(moved_by)

    response = await client.get("/api/tasks?overdue=true", headers=auth(ALICE))

    assert response.status_code == 200
    assert [task["title"] for task in response.json()] == overdue


async def test_timestamps_come_from_the_apps_clock(client: httpx.AsyncClient) -> None:
    CLOCK.set(START + timedelta(days=3650))
    body = await create_task(client, title="ten years on")
    assert body["created_at"].startswith("2036-11-")
