"""/docs and /redoc load their scripts and styles from this server only (the browser test
renders them with the internet blocked)."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import make_settings, running_app

ASSET = re.compile(
    r"""(?:src|href)=["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url=["']([^"']+)["']"""
)
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/db", auto_migrate=True)
    async with running_app(settings) as (_, started):
        yield started


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_only_assets_this_server_serves(
    client: httpx.AsyncClient, page: str
) -> None:
    html = await client.get(page)
    referenced = [next(filter(None, match)) for match in ASSET.findall(html.text)]

    assert html.status_code == 200
    assert "/openapi.json" in referenced
    assets = [url for url in referenced if url != "/openapi.json"]
    assert assets
    assert all(url.startswith("/docs/assets/") for url in assets), referenced
    for url in assets:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[Path(url).suffix]), url
        assert len(asset.content) > 1000, url


async def test_docs_pages_load_no_fonts_from_the_internet(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        assert "fonts.googleapis.com" not in (await client.get(page)).text


async def test_redoc_script_fetches_nothing_from_a_cdn(client: httpx.AsyncClient) -> None:
    script = await client.get("/docs/assets/redoc.standalone.js")

    assert script.status_code == 200
    assert "cdn.redoc.ly" not in script.text
    assert "Redoc" in script.text


async def test_api_docs_off_removes_the_docs_and_the_schema(tmp_path: Path) -> None:
    settings = make_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/db", auto_migrate=True, api_docs=False
    )
    async with running_app(settings) as (_, client):
        pages = {
            path: await client.get(path)
            for path in ["/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"]
        }
        health = await client.get("/health")

    for response in pages.values():
        assert response.status_code == 404
        assert response.json()["error_code"] == "NOT_FOUND"
    assert health.status_code == 200
