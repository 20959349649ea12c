"""The Next.js + Better Auth app (examples/web) on a live taskapi, in Debian's Chromium:
users sign up in Better Auth, the app gets their JWT with `authClient.token()` and calls the
API only through @taskapi/client. Two users are isolated, a change in one page appears live
in another, a stale edit is shown as a conflict, a drag reorder persists, search, filters and
delete with undo work, an outage shows a banner and is caught up, and no page logs a console
error. A screenshot of each test's last screen goes to test-artefacts/web/.

Skipped without /usr/bin/chromium or Node.js and `npm ci` in examples/web, unless
TASKAPI_REQUIRE_WEB=1 (CI), which fails then.
"""

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL, StartApp, new_postgres_database
from tests.support.clock import wall_now
from tests.support.helpers import all_tasks, free_port
from tests.support.web_example import REQUIRE_WEB, build, web_app

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    message = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if REQUIRE_WEB:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

from playwright.async_api import expect  # noqa: E402

from tests.support.web_browser import (  # noqa: E402
    ROWS,
    Stack,
    add_task,
    api_app,
    api_get,
    api_token,
    assert_one_refusal_logged,
    chromium,
    list_item,
    screenshot,
    sign_up,
    stack,
    task_row,
    titles,
)


@pytest.fixture
def auth_database_url(database_url: str) -> Iterator[str | None]:
    """Better Auth's users in PostgreSQL when the API is (a database of its own on the same
    server), else in the app's SQLite file."""
    if not database_url.startswith("postgresql"):
        yield None
        return
    with new_postgres_database(POSTGRES_URL, "web_auth") as url:
        yield url.replace("postgresql+asyncpg://", "postgresql://")


async def test_two_users_each_see_only_their_own_tasks(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        alice, bob = await s.page(), await s.page()
        await sign_up(alice, "alice@example.com")
        await sign_up(bob, "bob@example.com")
        await add_task(alice, "Alice's groceries")
        await add_task(bob, "Bob's report")

        await alice.reload()
        await bob.reload()
        await expect(task_row(alice, "Alice's groceries")).to_be_visible()
        await expect(task_row(bob, "Bob's report")).to_be_visible()
        assert await titles(alice) == ["Alice's groceries"]
        assert await titles(bob) == ["Bob's report"]
        await screenshot(alice, request)

        rows = await all_tasks(api_app(s))
        assert sorted(row.title for row in rows) == ["Alice's groceries", "Bob's report"]
        owners = {row.title: row.user_id for row in rows}
        # Better Auth's user ids, from the verified tokens: one per user.
        assert owners["Alice's groceries"] != owners["Bob's report"]
        assert all(re.fullmatch(r"[A-Za-z0-9]{20,}", owner) for owner in owners.values())
        # Better Auth kept its users where it was told: PostgreSQL, or its own SQLite file.
        assert (tmp_path / "auth.sqlite").is_file() == (auth_database_url is None)
        assert s.console_errors == []


async def test_a_change_in_one_page_appears_in_the_other_without_reloading(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        first = await s.page()
        await sign_up(first, "carol@example.com")
        second = await s.page(first.context)
        await expect(second.get_by_test_id("signed-in-as")).to_have_text("carol@example.com")
        await expect(second.get_by_text("No tasks here.")).to_be_visible()

        await add_task(first, "Water the plants")
        await expect(task_row(second, "Water the plants")).to_be_visible()
        await task_row(second, "Water the plants").get_by_role("checkbox").click()
        await expect(task_row(first, "Water the plants").get_by_role("checkbox")).to_be_checked()
        await screenshot(first, request)

        [row] = await all_tasks(api_app(s))
        assert (row.title, row.is_completed) == ("Water the plants", True)
        assert s.console_errors == []


async def test_a_stale_edit_is_shown_as_a_conflict_to_reload_or_overwrite(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        mine = await s.page()
        await sign_up(mine, "dave@example.com")
        await add_task(mine, "Draft the plan")
        theirs = await s.page(mine.context)
        await expect(task_row(theirs, "Draft the plan")).to_be_visible()

        await task_row(mine, "Draft the plan").get_by_role("button", name="Edit").click()
        await task_row(theirs, "Draft the plan").get_by_role("button", name="Edit").click()
        await theirs.get_by_label("Title", exact=True).fill("Their plan")
        await theirs.get_by_role("button", name="Save").click()
        await expect(task_row(mine, "Their plan")).to_be_visible()  # live, behind the editor

        await mine.get_by_label("Title", exact=True).fill("My plan")
        await mine.get_by_role("button", name="Save").click()
        conflict = mine.get_by_test_id("conflict")
        await expect(conflict).to_contain_text("Their plan")
        await screenshot(mine, request)
        [row] = await all_tasks(api_app(s))
        assert row.title == "Their plan"  # the stale save wrote nothing

        await conflict.get_by_role("button", name="Overwrite with mine").click()
        await expect(task_row(mine, "My plan")).to_be_visible()
        await expect(task_row(theirs, "My plan")).to_be_visible()
        [row] = await all_tasks(api_app(s))
        assert row.title == "My plan"
        # Chromium logs every non-2xx answer; the one 412 is this test's point, nothing else.
        assert_one_refusal_logged(s, "412 (Precondition Failed)")


async def test_a_drag_reorder_persists_after_reload(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        page = await s.page()
        await sign_up(page, "erin@example.com")
        for title in ("one", "two", "three"):
            await add_task(page, title)
        assert await titles(page) == ["one", "two", "three"]

        await task_row(page, "three").drag_to(task_row(page, "one"))
        await expect(page.locator(ROWS).first).to_contain_text("three")
        await page.reload()
        await expect(task_row(page, "one")).to_be_visible()
        assert await titles(page) == ["three", "one", "two"]
        await screenshot(page, request)

        rows = sorted(await all_tasks(api_app(s)), key=lambda row: (row.position, row.id))
        assert [row.title for row in rows] == ["three", "one", "two"]
        assert s.console_errors == []


async def test_the_api_down_shows_a_banner_not_a_blank_page(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    build()
    with web_app(free_port(), f"http://127.0.0.1:{free_port()}", tmp_path) as web:  # no API there
        async with chromium() as browser:
            s = Stack(None, web, browser, [])
            page = await s.page()
            await sign_up(page, "frank@example.com")  # Better Auth is the app: it works
            await expect(page.get_by_test_id("offline-banner")).to_contain_text(
                "Cannot reach the task server"
            )
            await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            await expect(page.get_by_label("New task")).to_be_visible()
            await screenshot(page, request)
            # Chromium logs each refused connection; nothing else may be logged.
            refused = "net::ERR_CONNECTION_REFUSED"
            assert [error for error in s.console_errors if not error.endswith(refused)] == []


async def test_search_filters_and_delete_with_undo(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        page = await s.page()
        await sign_up(page, "grace@example.com")
        for title in ("Call the bank", "Book the dentist", "Buy bread"):
            await add_task(page, title)
        await task_row(page, "Book the dentist").get_by_role("checkbox").click()
        await expect(task_row(page, "Book the dentist").get_by_role("checkbox")).to_be_checked()

        await page.get_by_label("Search").fill("BUY")
        await expect(page.locator(ROWS)).to_have_count(1)
        assert await titles(page) == ["Buy bread"]
        await page.get_by_label("Search").fill("")
        await page.get_by_label("Status").select_option("open")
        await expect(page.locator(ROWS)).to_have_count(2)
        assert await titles(page) == ["Call the bank", "Buy bread"]
        await page.get_by_label("Status").select_option("all")
        await expect(page.locator(ROWS)).to_have_count(3)

        # Undone: nothing is deleted.
        await (
            task_row(page, "Call the bank")
            .get_by_role("button", name="Delete Call the bank")
            .click()
        )
        await expect(task_row(page, "Call the bank")).to_have_count(0)
        await page.get_by_test_id("undo-toast").get_by_role("button", name="Undo").click()
        await expect(task_row(page, "Call the bank")).to_be_visible()
        assert len(await all_tasks(api_app(s))) == 3

        # Not undone: deleted when the toast goes.
        await task_row(page, "Buy bread").get_by_role("button", name="Delete Buy bread").click()
        await expect(page.get_by_test_id("undo-toast")).to_be_visible()
        await expect(page.get_by_test_id("undo-toast")).to_have_count(0, timeout=15_000)
        await page.reload()
        await expect(task_row(page, "Call the bank")).to_be_visible()
        assert await titles(page) == ["Call the bank", "Book the dentist"]
        await screenshot(page, request)
        rows = await all_tasks(api_app(s))
        assert sorted((row.title, row.is_completed) for row in rows) == [
            ("Book the dentist", True),
            ("Call the bank", False),
        ]
        assert s.console_errors == []


async def test_after_an_outage_the_page_catches_up_without_reloading(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        assert s.proxy is not None
        page = await s.page()
        await sign_up(page, "heidi@example.com")
        await expect(page.get_by_text("No tasks here.")).to_be_visible()
        token = await api_token(page)

        await s.proxy.cut()
        await expect(page.get_by_test_id("offline-banner")).to_be_visible()
        async with httpx.AsyncClient(base_url=s.api) as client:  # another device, still online
            made = await client.post(
                "/api/tasks",
                json={"title": "Made while you were away"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert made.status_code == 201, made.text
        await s.proxy.start()

        await expect(task_row(page, "Made while you were away")).to_be_visible()
        await expect(page.get_by_test_id("offline-banner")).to_have_count(0)
        await screenshot(page, request)
        [row] = await all_tasks(api_app(s))
        assert row.title == "Made while you were away"
        # Chromium logs each refused or dropped connection; nothing else may be logged.
        assert [error for error in s.console_errors if "net::ERR_" not in error] == []


async def test_a_task_set_to_repeat_moves_to_its_next_due_when_completed(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        page = await s.page()
        await sign_up(page, "ivan@example.com")
        await add_task(page, "Water the ferns")
        due = wall_now().date() + timedelta(days=10)  # the browser runs on the wall clock
        row = task_row(page, "Water the ferns")
        editor = page.get_by_role("dialog", name="Edit task")

        await row.get_by_role("button", name="Edit").click()
        await editor.get_by_label("Due", exact=True).fill(due.isoformat())
        await editor.get_by_label("Repeats").select_option(label="Weekly")
        await editor.get_by_role("button", name="Save").click()
        await expect(row.get_by_test_id("task-repeats")).to_have_text("↻ Weekly")
        await expect(row.get_by_test_id("task-due")).to_have_text(due.isoformat())
        [stored] = await all_tasks(api_app(s))
        assert stored.due_date == due
        assert stored.recurrence is not None
        assert (stored.recurrence["rule"], stored.recurrence["repeat_from"]) == (
            "FREQ=WEEKLY",
            "due",
        )
        assert stored.recurrence["time_zone"]  # the browser's zone

        # Completing it: the same task, open again, due a week later (the API moved it).
        await row.get_by_role("checkbox", name="Complete Water the ferns").click()
        next_due = due + timedelta(days=7)
        await expect(row.get_by_test_id("task-due")).to_have_text(next_due.isoformat())
        await expect(row.get_by_role("checkbox")).not_to_be_checked()
        await screenshot(page, request)
        [stored] = await all_tasks(api_app(s))
        assert (stored.is_completed, stored.due_date) == (False, next_due)
        [completion] = await api_get(s, page, f"/api/tasks/{stored.id}/completions")
        assert completion["due_date"] == due.isoformat()

        # Stopped: the marker goes, the due stays.
        await row.get_by_role("button", name="Edit").click()
        await expect(editor.get_by_label("Repeats")).to_have_value("FREQ=WEEKLY")
        await editor.get_by_label("Repeats").select_option(label="Does not repeat")
        await editor.get_by_role("button", name="Save").click()
        await expect(editor).to_have_count(0)
        await expect(row.get_by_test_id("task-repeats")).to_have_count(0)
        [stored] = await all_tasks(api_app(s))
        assert (stored.recurrence, stored.due_date) == (None, next_due)
        assert s.console_errors == []


async def test_a_repeat_without_a_due_is_refused_as_the_api_says_and_nothing_is_written(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        page = await s.page()
        await sign_up(page, "ivy@example.com")
        await add_task(page, "Someday")
        editor = page.get_by_role("dialog", name="Edit task")

        await task_row(page, "Someday").get_by_role("button", name="Edit").click()
        await editor.get_by_label("Repeats").select_option(label="Daily")
        await expect(editor.get_by_text("A repeating task needs a due.")).to_be_visible()
        await editor.get_by_role("button", name="Save").click()
        await expect(page.get_by_test_id("notice")).to_contain_text("recurrence: needs a due")
        await expect(editor).to_be_visible()  # the edit is kept, to fix
        await screenshot(page, request)
        # Readable above the editor: a click on its Dismiss reaches it (not the editor).
        await page.get_by_test_id("notice").get_by_role("button", name="Dismiss").click()
        await expect(page.get_by_test_id("notice")).to_have_count(0)
        [stored] = await all_tasks(api_app(s))
        assert (stored.recurrence, stored.due_date, stored.due_at) == (None, None, None)
        # Chromium logs every non-2xx answer; the one 400 is this test's point, nothing else.
        assert_one_refusal_logged(s, "400 (Bad Request)")


async def test_reminders_are_added_and_removed_in_the_editor(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        page = await s.page()
        await sign_up(page, "judy@example.com")
        await add_task(page, "Dentist")
        row = task_row(page, "Dentist")
        day = wall_now().date() + timedelta(days=14)
        editor = page.get_by_role("dialog", name="Edit task")

        await row.get_by_role("button", name="Edit").click()
        await editor.get_by_text("No reminders.").wait_for()
        await editor.get_by_label("At a time").check()
        await editor.get_by_label("Due", exact=True).fill(f"{day.isoformat()}T09:00")
        await editor.get_by_label("New reminder").select_option(label="30 minutes before")
        await editor.get_by_role("button", name="Add reminder").click()
        await editor.get_by_label("New reminder").select_option(label="At a time…")
        await editor.get_by_label("Reminder time").fill(f"{day.isoformat()}T07:00")
        await editor.get_by_role("button", name="Add reminder").click()
        await expect(
            editor.get_by_role("list", name="Reminders").get_by_role("listitem")
        ).to_have_count(2)
        await editor.get_by_role("button", name="Save").click()
        await expect(row.get_by_test_id("task-reminders")).to_have_text("2 reminders")
        # The browser's local 07:00, as the API stores it: UTC.
        at = datetime.fromisoformat(
            await page.evaluate(f"new Date('{day.isoformat()}T07:00').toISOString()")
        )
        [stored] = await all_tasks(api_app(s))
        assert stored.reminders is not None
        assert [reminder.get("before") for reminder in stored.reminders] == ["PT30M", None]
        assert datetime.fromisoformat(str(stored.reminders[1]["at"])) == at

        await row.get_by_role("button", name="Edit").click()
        await editor.get_by_role("button", name="Remove reminder 30 minutes before").click()
        await expect(
            editor.get_by_role("list", name="Reminders").get_by_role("listitem")
        ).to_have_count(1)
        await screenshot(page, request)
        await editor.get_by_role("button", name="Save").click()
        await expect(row.get_by_test_id("task-reminders")).to_have_text("1 reminder")
        [stored] = await all_tasks(api_app(s))
        assert stored.reminders is not None
        assert len(stored.reminders) == 1
        assert datetime.fromisoformat(str(stored.reminders[0]["at"])) == at
        [task] = await api_get(s, page, "/api/tasks")
        assert task["reminders"] == stored.reminders

        await row.get_by_role("button", name="Edit").click()
        await editor.get_by_role("button", name="Remove reminder At").click()
        await editor.get_by_role("button", name="Save").click()
        await expect(row.get_by_test_id("task-reminders")).to_have_count(0)
        [stored] = await all_tasks(api_app(s))
        assert not stored.reminders
        assert s.console_errors == []


async def test_a_list_is_renamed_then_deleted_moving_or_deleting_its_tasks(
    start_app: StartApp,
    database_url: str,
    auth_database_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    async with stack(start_app, database_url, tmp_path, auth_database_url) as s:
        page = await s.page()
        await sign_up(page, "kim@example.com")
        sidebar = page.get_by_role("navigation", name="Lists")
        for name, title in (("Work", "Send the invoice"), ("Home", "Fix the tap")):
            await sidebar.get_by_label("New list name").fill(name)
            await sidebar.get_by_label("New list name").press("Enter")
            await expect(page.get_by_test_id("list-title")).to_have_text(name)
            await add_task(page, title)

        # Rename (the list shown, Home).
        await sidebar.get_by_role("button", name="Rename Home").click()
        await sidebar.get_by_label("New name for Home").fill("House")
        await sidebar.get_by_role("button", name="Save").click()
        await expect(list_item(page, "House")).to_be_visible()
        await expect(page.get_by_test_id("list-title")).to_have_text("House")
        assert [row["name"] for row in await api_get(s, page, "/api/lists")] == ["Work", "House"]

        # Delete, moving its task to Work: Work is shown, with both tasks.
        await sidebar.get_by_role("button", name="Delete House").click()
        confirm = sidebar.get_by_role("group", name="Delete House")
        await expect(confirm).to_contain_text("“House” has 1 task.")
        await confirm.get_by_label("Move its tasks to").select_option(label="Work")
        await confirm.get_by_role("button", name="Move tasks and delete list").click()
        await expect(page.get_by_test_id("list-title")).to_have_text("Work")
        await expect(page.locator(ROWS)).to_have_count(2)
        assert sorted(await titles(page)) == ["Fix the tap", "Send the invoice"]
        await expect(list_item(page, "House")).to_have_count(0)
        lists = await api_get(s, page, "/api/lists")
        assert [(row["name"], row["task_count"]) for row in lists] == [("Work", 2)]
        assert {str(row.list_id) for row in await all_tasks(api_app(s))} == {lists[0]["id"]}

        # Delete with its tasks (no other list to move them to: not offered).
        await sidebar.get_by_role("button", name="Delete Work").click()
        confirm = sidebar.get_by_role("group", name="Delete Work")
        await expect(confirm).to_contain_text("“Work” has 2 tasks.")
        await expect(confirm.get_by_label("Move its tasks to")).to_have_count(0)
        await screenshot(page, request)
        await confirm.get_by_role("button", name="Delete list and its tasks").click()
        await expect(page.get_by_test_id("list-title")).to_have_text("Inbox")
        await expect(list_item(page, "Work")).to_have_count(0)
        await expect(page.get_by_text("No tasks here.")).to_be_visible()
        assert await api_get(s, page, "/api/lists") == []
        assert await all_tasks(api_app(s)) == []

        # An empty list: deleted as it is.
        await sidebar.get_by_label("New list name").fill("Spare")
        await sidebar.get_by_label("New list name").press("Enter")
        await sidebar.get_by_role("button", name="Delete Spare").click()
        await (
            sidebar.get_by_role("group", name="Delete Spare")
            .get_by_role("button", name="Delete list")
            .click()
        )
        await expect(list_item(page, "Spare")).to_have_count(0)
        assert await api_get(s, page, "/api/lists") == []
        assert s.console_errors == []
