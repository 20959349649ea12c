"""With scopes configured, each tool needs its scope (a 403 that names it, so a client can ask
for it); the rate limit counts MCP requests per user."""

import pytest

from tests.mcp.conftest import Served, call, call_tool_raw, http, mcp_client, rpc
from tests.support.helpers import ALICE, BOB, all_tasks

READ, WRITE = "tasks:read", "tasks:write"
LIMIT = 6


@pytest.fixture(scope="module")
def mcp_settings() -> dict[str, str]:
    return {"mcp_read_scope": READ, "mcp_write_scope": WRITE, "rate_limit": f"{LIMIT}/minute"}


def challenge(served: Served, scope: str) -> str:
    metadata = f"{served.base_url}/.well-known/oauth-protected-resource/mcp"
    return f'Bearer error="insufficient_scope", scope="{scope}", resource_metadata="{metadata}"'


async def test_a_read_scope_reads_but_cannot_write(served: Served) -> None:
    token = served.token(ALICE, extra_claims={"scope": f"openid {READ}"})
    async with mcp_client(served.mcp_url, token) as client:
        found = await call(client, "find_tasks")
        lists = await call(client, "find_lists")

    response = await call_tool_raw(
        served.mcp_url, token, "add_tasks", tasks=[{"title": "x"}], idempotency_key="k"
    )

    assert found["tasks"] == []
    assert lists["lists"] == []
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == challenge(served, WRITE)
    assert response.json()["error_code"] == "INSUFFICIENT_SCOPE"
    assert await all_tasks(served.app) == []


async def test_a_write_scope_writes_but_cannot_read(served: Served) -> None:
    token = served.token(BOB, extra_claims={"scp": [WRITE]})
    added = await call_tool_raw(
        served.mcp_url, token, "add_tasks", tasks=[{"title": "x"}], idempotency_key="k"
    )
    found = await call_tool_raw(served.mcp_url, token, "find_tasks")
    lists = await call_tool_raw(served.mcp_url, token, "find_lists")

    assert added.status_code == 200
    assert added.json()["result"]["structuredContent"]["tasks"][0]["title"] == "x"
    assert found.status_code == 403
    assert found.headers["www-authenticate"] == challenge(served, READ)
    assert lists.status_code == 403
    assert [row.title for row in await all_tasks(served.app)] == ["x"]


async def test_a_token_without_either_scope_is_refused_at_once(served: Served) -> None:
    # Each test its own user: the rate limit of this module's server counts per user.
    response = await rpc(
        served.mcp_url, served.token("erin", extra_claims={"scope": "openid"}), "ping"
    )

    assert response.status_code == 403
    assert response.headers["www-authenticate"] == challenge(served, READ)


async def test_the_metadata_lists_the_scopes(served: Served) -> None:
    document = (
        await http("GET", f"{served.base_url}/.well-known/oauth-protected-resource/mcp")
    ).json()

    assert document["scopes_supported"] == [READ, WRITE]


async def test_the_rate_limit_counts_each_user_apart(served: Served) -> None:
    carol = served.token("carol", extra_claims={"scope": READ})
    dave = served.token("dave", extra_claims={"scope": READ})

    answers = [(await rpc(served.mcp_url, carol, "ping")).status_code for _ in range(LIMIT + 1)]
    refused = await rpc(served.mcp_url, carol, "ping")
    other_user = await rpc(served.mcp_url, dave, "ping")

    assert answers == [200] * LIMIT + [429]
    assert refused.json()["error_code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    assert other_user.status_code == 200
