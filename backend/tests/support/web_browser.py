"""Driving the web example (examples/web) in Debian's Chromium for tests/web: taskapi and
the app on free ports wired to each other (the app through a proxy a test can cut), a browser,
and the few gestures the tests repeat (sign up, add a task, read the rows, a screenshot)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    async_playwright,
    expect,
)

from tests.conftest import StartApp
from tests.support.helpers import free_port
from tests.support.live_server import live_server_on
from tests.support.tcp_proxy import TcpProxy
from tests.support.web_example import ROOT, build, web_app

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = ROOT / "test-artefacts" / "web"
PASSWORD = "correct horse battery staple"
# The top-level task rows of the list shown (not subtasks).
ROWS = "main [data-testid=tasks] > [data-testid=task]"


@dataclass
class Stack:
    app: FastAPI | None  # the API's app object: its database, for checking what was written
    web: str  # the Next.js app's URL
    browser: Browser
    console_errors: list[str]
    api: str = ""  # the API's own URL (the app's goes through `proxy`)
    proxy: TcpProxy | None = None

    async def page(self, context: BrowserContext | None = None) -> Page:
        """A new page of `context` (a new browser profile when None), its console watched."""
        context = context or await self.browser.new_context()
        page = await context.new_page()

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.console_errors.append(f"{page.url}: {message.text}")

        def uncaught(error: Error) -> None:
            self.console_errors.append(f"uncaught: {error}")

        page.on("console", console)
        page.on("pageerror", uncaught)
        await page.goto(self.web)
        return page


@asynccontextmanager
async def stack(
    start_app: StartApp, database_url: str, tmp_path: Path, auth_database_url: str | None
) -> AsyncIterator[Stack]:
    """taskapi and the app on free ports, each knowing the other's URL: the API trusts the
    app's Better Auth (JWKS, issuer, audience) and allows its origin (CORS)."""
    build()
    api_port = free_port()
    # The app reaches the API through a proxy the test can cut (an outage) and restore.
    proxy = TcpProxy("127.0.0.1", api_port)
    await proxy.start()
    try:
        async with start_app() as (app, _):
            api_url = f"http://127.0.0.1:{proxy.port}"
            with web_app(free_port(), api_url, tmp_path, auth_database_url) as web:
                settings = {
                    "auth_jwks_url": f"{web}/api/auth/jwks",
                    "auth_issuer": web,
                    "auth_audience": web,
                    "cors_allow_origins": web,
                }
                with live_server_on(api_port, database_url, tmp_path, **settings):
                    async with chromium() as browser:
                        api = f"http://127.0.0.1:{api_port}"
                        yield Stack(app, web, browser, [], api, proxy)
    finally:
        await proxy.cut()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            await browser.close()


def api_app(s: Stack) -> FastAPI:
    assert s.app is not None
    return s.app


async def sign_up(page: Page, email: str) -> None:
    await page.get_by_role("button", name="New here? Create an account").click()
    await page.get_by_label("Name").fill(email.split("@")[0])
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_test_id("signed-in-as")).to_have_text(email)


async def add_task(page: Page, title: str) -> None:
    await page.get_by_label("New task").fill(title)
    await page.get_by_label("New task").press("Enter")
    await expect(task_row(page, title)).to_be_visible()


async def api_token(page: Page) -> str:
    """The signed-in user's bearer token for taskapi, as the app gets it (Better Auth's jwt)."""
    token: str = await page.evaluate(
        "fetch('/api/auth/token').then((r) => r.json()).then((j) => j.token)"
    )
    return token


async def api_get(s: Stack, page: Page, path: str) -> Any:
    """GET `path` on the API (not through the app's proxy) as the page's user: what the API
    now says, to check what the UI wrote."""
    async with httpx.AsyncClient(base_url=s.api) as client:
        response = await client.get(
            path, headers={"Authorization": f"Bearer {await api_token(page)}"}
        )
    assert response.status_code == 200, response.text
    return response.json()


def list_item(page: Page, name: str) -> Locator:
    """A list's button in the sidebar."""
    return page.get_by_test_id("list-item").filter(has_text=re.compile(rf"^{re.escape(name)}\b"))


def assert_one_refusal_logged(s: Stack, status: str) -> None:
    """Chromium logs every non-2xx answer: exactly one with `status` (e.g. "412 (Precondition
    Failed)"), the test's point, and no other console error."""
    refused = f"the server responded with a status of {status}"
    assert len([error for error in s.console_errors if error.endswith(refused)]) == 1
    assert [error for error in s.console_errors if not error.endswith(refused)] == []


def task_row(page: Page, title: str) -> Locator:
    return page.get_by_test_id("task").filter(has=page.get_by_text(title, exact=True))


async def titles(page: Page) -> list[str]:
    return await page.locator(f"{ROWS} > .row [data-testid=task-title]").all_inner_texts()


async def screenshot(page: Page, request: pytest.FixtureRequest) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
