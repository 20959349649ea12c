"""/mcp against a live `taskapi serve` (a real socket, production settings), called with the
official SDK's own client over streamable HTTP; the database is read directly to check what was
written."""

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
from fastapi import FastAPI
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from tests.support.helpers import (
    delete_all_tasks,
    free_port,
    make_settings,
    running_app,
    token_for,
)
from tests.support.live_server import live_server_on


@dataclass(frozen=True)
class Served:
    app: FastAPI  # the same database, in process: for direct reads and writes
    base_url: str
    mcp_url: str  # also MCP_RESOURCE_URL: the audience its tokens name

    def token(self, user_id: str, **kwargs: Any) -> str:
        """A shared-secret token for /mcp: its `aud` is the MCP resource URL."""
        return token_for(user_id, audience=self.mcp_url, **kwargs)


@pytest.fixture(scope="module")
def mcp_settings() -> dict[str, str]:
    """Override in a test module for other settings of the live server."""
    return {}


@dataclass(frozen=True)
class LiveServer:
    database_url: str
    base_url: str
    mcp_url: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    mcp_settings: dict[str, str],
) -> Iterator[LiveServer]:
    """One live server per module and database (a server takes seconds to start); each test
    empties its tables (`served`)."""
    folder = tmp_path_factory.mktemp("mcp")
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{folder / 'taskapi.db'}"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "taskapi.db")
    else:
        database_url = request.getfixturevalue("postgres_url")
    port = free_port()
    mcp_url = f"http://127.0.0.1:{port}/mcp"
    settings = {"mcp_resource_url": mcp_url, **mcp_settings}
    with live_server_on(port, database_url, folder, **settings) as base_url:
        yield LiveServer(database_url, base_url, mcp_url)


@pytest.fixture
async def served(live: LiveServer) -> AsyncIterator[Served]:
    async with running_app(make_settings(database_url=live.database_url)) as (app, _):
        await delete_all_tasks(app)
        yield Served(app, live.base_url, live.mcp_url)


@asynccontextmanager
async def mcp_client(url: str, token: str | None) -> AsyncIterator[Client]:
    """The SDK's client, connected (initialized) over streamable HTTP with this bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured result; the call must succeed."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """A tool error's text; the call must fail as a tool error (not a protocol error)."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return text_of(result)


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(item, "text", "") for item in result.content)


# A raw JSON-RPC message over streamable HTTP (stateless: no initialize needed), for what the
# SDK's client hides: statuses and headers.
PROTOCOL = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-06-18",
}


async def http(method: str, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.request(method, url, **kwargs)


async def rpc(
    url: str,
    token: str | None,
    method: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    authorization = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    all_headers = {**PROTOCOL, **authorization, **(headers or {})}
    return await http("POST", url, json=body, headers=all_headers)


async def call_tool_raw(url: str, token: str | None, tool: str, **arguments: Any) -> httpx.Response:
    return await rpc(url, token, "tools/call", {"name": tool, "arguments": arguments})
