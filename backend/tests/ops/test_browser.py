"""A real browser (Debian's chromium, driven by Playwright) on a page from another origin,
calling a live server as a frontend would: create, list and follow `Link`, toggle, delete,
read every error's JSON and headers, with no console error; and /docs and /redoc render
with every request to the internet blocked.

Skipped without /usr/bin/chromium, unless TASKAPI_REQUIRE_BROWSER=1 (CI), which fails then.
Playwright never downloads a browser here: it is pointed at the system one.
"""

import functools
import os
import re
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from json import dumps
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StartApp
from tests.support.better_auth_server import BetterAuthServer
from tests.support.helpers import ALICE, BOB, all_tasks, token_for
from tests.support.jwks_server import BASE_URL, JwksServer, better_auth_token, generate_key
from tests.support.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
PAGE_DIR = Path(__file__).parents[1] / "support" / "browser"
SDK_PAGE_DIR = Path(__file__).parents[1] / "support" / "browser_sdk"
REQUIRE_BROWSER = os.environ.get("TASKAPI_REQUIRE_BROWSER") == "1"

if not CHROMIUM.is_file():
    message = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if REQUIRE_BROWSER:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright  # noqa: E402

Answer = dict[str, Any]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ModuleHandler(_QuietHandler):
    # Module scripts need a JavaScript type; Python's table may lack one for .js.
    extensions_map = {**_QuietHandler.extensions_map, ".js": "text/javascript"}


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A frontend: `folder` served on its own port, another origin than the API's."""
    handler = functools.partial(_ModuleHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page_origin() -> Iterator[str]:
    """tests/support/browser/ on another origin than the API's."""
    with serve_folder(PAGE_DIR) as origin:
        yield origin


@pytest.fixture
def unreachable_jwks() -> Iterator[str]:
    """Better Auth's key set answering 503: a token signed with its keys gets AUTH_UNAVAILABLE."""
    server = JwksServer([]).start()
    server.status = 503
    yield server.url
    server.stop()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            await browser.close()


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


async def call(
    page: Page,
    api: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: object = None,
    text: str | None = None,
) -> Answer:
    """One `fetch` from the page; what page code sees of the answer. `json` is sent as
    `application/json`; `text` as fetch sends a string body (`text/plain;charset=UTF-8`)."""
    options: dict[str, Any] = {"token": token}
    if json is not None:
        options |= {"body": dumps(json), "contentType": "application/json"}
    elif text is not None:
        options["body"] = text
    answer: Answer = await page.evaluate(
        "([base, method, path, options]) => api(base, method, path, options)",
        [api, method, path, options],
    )
    return answer


def assert_envelope(answer: Answer, status: int, error_code: str) -> None:
    assert answer["status"] == status, answer
    assert answer["json"]["error_code"] == error_code, answer
    assert answer["json"]["status_code"] == status
    assert answer["json"]["detail"]
    assert answer["headers"]["content-type"] == "application/json"


async def test_a_page_on_another_origin_uses_the_whole_api(
    start_app: StartApp, database_url: str, page_origin: str, unreachable_jwks: str, tmp_path: Path
) -> None:
    claims = {"issuer": BASE_URL, "audience": BASE_URL}
    alice, bob = token_for(ALICE, **claims), token_for(BOB, **claims)
    settings = {
        "cors_allow_origins": page_origin + "/",  # the trailing slash a person types
        "auth_jwks_url": unreachable_jwks,
        "auth_issuer": BASE_URL,
        "auth_audience": BASE_URL,
    }
    async with start_app() as (app, _):
        with live_server(database_url, tmp_path, **settings) as api:
            async with chromium() as browser:
                page = await browser.new_page()
                console = Console(page)
                await page.goto(page_origin + "/index.html")

                created = [
                    await call(page, api, "POST", "/api/tasks", token=alice, json={"title": title})
                    for title in ("first", "second", "third")
                ]
                pages: list[list[str]] = []
                url: str | None = "/api/tasks?limit=2"
                while url is not None:
                    listed = await call(page, api, "GET", url, token=alice)
                    assert listed["status"] == 200, listed
                    pages.append([task["title"] for task in listed["json"]])
                    url = listed["next"]
                first, _, third = (answer["json"] for answer in created)
                done = {"is_completed": True}
                toggled = await call(
                    page, api, "PUT", f"/api/tasks/{third['id']}", token=alice, json=done
                )
                deleted = await call(page, api, "DELETE", f"/api/tasks/{first['id']}", token=alice)

                not_authenticated = await call(page, api, "GET", "/api/tasks")
                invalid = await call(page, api, "GET", "/api/tasks", token="not-a-jwt")
                forbidden = await call(page, api, "GET", f"/api/tasks/{third['id']}", token=bob)
                missing = await call(page, api, "DELETE", f"/api/tasks/{first['id']}", token=alice)
                invalid_input = await call(
                    page, api, "POST", "/api/tasks", token=alice, json={"title": ""}
                )
                as_text = await call(
                    page, api, "POST", "/api/tasks", token=alice, text='{"title": "as text"}'
                )
                too_large = await call(
                    page, api, "POST", "/api/tasks", token=alice, json={"title": "x" * 70_000}
                )
                key = generate_key("EdDSA")
                unavailable = await call(
                    page, api, "GET", "/api/tasks", token=better_auth_token(key, ALICE)
                )
                health = await call(page, api, "HEAD", "/health")
                await page.close()

        assert [answer["status"] for answer in created] == [201, 201, 201]
        assert pages == [["third", "second"], ["first"]]
        assert toggled["status"] == 200
        assert toggled["json"]["is_completed"] is True
        assert deleted["status"] == 204
        assert "content-type" not in deleted["headers"]
        assert_envelope(not_authenticated, 401, "NOT_AUTHENTICATED")
        assert not_authenticated["headers"]["www-authenticate"] == "Bearer"
        assert_envelope(invalid, 401, "INVALID_TOKEN")
        assert_envelope(forbidden, 403, "TASK_FORBIDDEN")
        assert_envelope(missing, 404, "TASK_NOT_FOUND")
        assert_envelope(invalid_input, 400, "VALIDATION_ERROR")
        assert_envelope(as_text, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert_envelope(too_large, 413, "PAYLOAD_TOO_LARGE")
        assert_envelope(unavailable, 503, "AUTH_UNAVAILABLE")
        assert int(unavailable["headers"]["retry-after"]) >= 1
        assert health["status"] == 200
        assert health["json"] is None
        # Chromium logs each answer >= 400 as a failed load; anything else (a CORS refusal, an
        # uncaught error) would be a bug.
        assert failed_loads(console.errors) == [401, 401, 403, 404, 400, 415, 413, 503]
        rows = {(task.user_id, task.title, task.is_completed) for task in await all_tasks(app)}
        assert rows == {(ALICE, "second", False), (ALICE, "third", True)}


FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+) ")


def failed_loads(errors: list[str]) -> list[int]:
    """The statuses of the failed loads among console errors; fails on any other error."""
    statuses = []
    for error in errors:
        match = FAILED_LOAD.match(error)
        assert match is not None, f"console error: {error}"
        statuses.append(int(match.group(1)))
    return statuses


# What each page shows once its script has loaded the document and rendered an operation.
RENDERED = {
    "/docs": ".swagger-ui .opblock-summary-description:has-text('Create Task')",
    "/redoc": "h2:has-text('Create Task')",
}


@pytest.mark.parametrize("path", list(RENDERED))
async def test_docs_render_with_the_internet_blocked(
    sqlite_template: Path, tmp_path: Path, path: str
) -> None:
    database = tmp_path / "taskapi.db"
    shutil.copyfile(sqlite_template, database)
    outside: list[str] = []

    async def only_this_machine(route: Any, request: Request) -> None:
        if request.url.startswith("http://127.0.0.1:") or request.url.startswith("data:"):
            await route.continue_()
        else:
            outside.append(request.url)
            await route.abort()

    with live_server(f"sqlite+aiosqlite:///{database}", tmp_path) as api:
        async with chromium() as browser:
            page = await browser.new_page()
            console = Console(page)
            await page.route("**/*", only_this_machine)
            await page.goto(api + path)
            await page.locator(RENDERED[path]).first.wait_for(timeout=30_000)
            await page.close()

    assert outside == []
    assert console.errors == []


async def test_the_sdk_built_files_run_in_a_page_on_another_origin(
    start_app: StartApp,
    database_url: str,
    sdk_project: Path,
    better_auth: BetterAuthServer,
    tmp_path: Path,
) -> None:
    """The package's dist/, as installed from the tarball, imported by a page as ES modules."""
    site = tmp_path / "site"
    shutil.copytree(SDK_PAGE_DIR, site)
    shutil.copytree(sdk_project / "node_modules" / "@taskapi" / "client" / "dist", site / "sdk")
    async with start_app() as (app, _):
        with serve_folder(site) as page_origin:
            settings = {**better_auth.settings(), "cors_allow_origins": page_origin}
            with live_server(database_url, tmp_path, **settings) as api:
                async with chromium() as browser:
                    page = await browser.new_page()
                    console = Console(page)
                    await page.goto(page_origin + "/index.html")
                    await page.wait_for_function("window.ready === true")
                    seen: Answer = await page.evaluate(
                        "([api, token]) => flow(api, token)", [api, better_auth.token]
                    )
                    await page.close()

        assert seen == {
            "created": ["ok", "ok"],
            "titles": ["and another", "from the browser"],
            "notModified": "not_modified",
            "conflict": True,
            "synced": [True, 2],
            "missing": "TASK_NOT_FOUND",
            "events": ["ready", "created", "created", "updated"],
        }
        assert failed_loads(console.errors) == [412, 404]
        rows = {(task.title, task.is_completed) for task in await all_tasks(app)}
    assert rows == {("from the browser", True), ("and another", False)}
