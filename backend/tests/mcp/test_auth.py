"""/mcp as an OAuth resource server: tokens verified like the REST API's and bound to the MCP
resource URL, a 401 that points at the protected-resource metadata (RFC 9728), a real Better
Auth token accepted, and DNS-rebinding protection."""

from datetime import timedelta
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from tests.conftest import StartApp
from tests.mcp.conftest import Served, call, call_tool_raw, http, mcp_client, rpc
from tests.support.better_auth_server import better_auth_server
from tests.support.helpers import ALICE, AUTH_DETAILS, all_tasks, free_port, token_for
from tests.support.live_server import live_server_on


def metadata_url(served: Served) -> str:
    return f"{served.base_url}/.well-known/oauth-protected-resource/mcp"


async def test_no_token_is_a_401_pointing_at_the_metadata(served: Served) -> None:
    response = await rpc(served.mcp_url, None, "tools/list")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{metadata_url(served)}"'
    )
    assert response.json() == {
        "detail": AUTH_DETAILS["NOT_AUTHENTICATED"],
        "error_code": "NOT_AUTHENTICATED",
        "status_code": 401,
    }


@pytest.mark.parametrize(
    ("case", "error_code"),
    [
        ("expired", "TOKEN_EXPIRED"),
        ("no audience", "INVALID_TOKEN"),
        ("the REST API's audience", "INVALID_TOKEN"),
        ("another resource", "INVALID_TOKEN"),
        ("a bad signature", "INVALID_TOKEN"),
    ],
)
async def test_a_token_not_for_this_resource_is_refused_and_writes_nothing(
    served: Served, case: str, error_code: str
) -> None:
    token = {
        "expired": served.token(ALICE, expires_in=timedelta(minutes=-5)),
        "no audience": token_for(ALICE),
        "the REST API's audience": token_for(ALICE, audience=served.base_url),
        "another resource": token_for(ALICE, audience=served.mcp_url + "/other"),
        "a bad signature": served.token(ALICE)[:-4] + "AAAA",
    }[case]

    response = await call_tool_raw(
        served.mcp_url, token, "add_tasks", tasks=[{"title": "x"}], idempotency_key="k"
    )

    assert response.status_code == 401
    assert response.json()["error_code"] == error_code
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", resource_metadata="{metadata_url(served)}"'
    )
    assert await all_tasks(served.app) == []


async def test_the_sdk_client_is_refused_without_a_valid_token(served: Served) -> None:
    expired = served.token(ALICE, expires_in=timedelta(minutes=-5))
    for token in (None, expired):
        with pytest.raises(ExceptionGroup) as raised:
            async with mcp_client(served.mcp_url, token) as client:
                await client.list_tools()
        assert raised.group_contains(MCPError, match="error response")


async def test_the_protected_resource_metadata(served: Served) -> None:
    response = await http("GET", metadata_url(served))

    assert response.status_code == 200
    assert response.json() == {
        "resource": served.mcp_url,
        "bearer_methods_supported": ["header"],
        "resource_name": "taskapi",
    }
    root = await http("GET", f"{served.base_url}/.well-known/oauth-protected-resource")
    assert root.json() == (response.json())


async def test_dns_rebinding_protection_checks_host_and_origin(served: Served) -> None:
    token = served.token(ALICE)

    bad_host = await rpc(served.mcp_url, token, "tools/list", headers={"Host": "evil.example"})
    bad_origin = await rpc(
        served.mcp_url, token, "tools/list", headers={"Origin": "http://evil.test"}
    )
    own_origin = await rpc(served.mcp_url, token, "tools/list", headers={"Origin": served.base_url})

    assert bad_host.status_code == 421
    assert bad_origin.status_code == 403
    assert own_origin.status_code == 200


async def test_a_real_better_auth_token_for_the_mcp_resource_is_accepted(
    start_app: StartApp, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    mcp_url = f"http://127.0.0.1:{port}/mcp"
    with better_auth_server(audience=mcp_url) as auth:
        settings = {
            "auth_jwks_url": auth.jwks_url,
            "auth_issuer": auth.base_url,
            "auth_audience": auth.base_url,
            "mcp_resource_url": mcp_url,
        }
        async with start_app() as (app, _):
            with live_server_on(port, database_url, tmp_path, **settings) as base_url:
                async with mcp_client(mcp_url, auth.token) as client:
                    added = await call(
                        client, "add_tasks", tasks=[{"title": "from Claude"}], idempotency_key="1"
                    )
                metadata = await http("GET", f"{base_url}/.well-known/oauth-protected-resource/mcp")
                # The REST API's audience is the app's, so the MCP token is no REST token.
                rest = await http("GET", f"{base_url}/api/tasks", headers=_bearer(auth.token))
            rows = await all_tasks(app)

    assert added["tasks"][0]["user_id"] == auth.user_id
    assert [(row.user_id, row.title) for row in rows] == [(auth.user_id, "from Claude")]
    assert metadata.json()["authorization_servers"] == [auth.base_url]
    assert rest.status_code == 401


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_get_opens_no_stream_the_endpoint_is_stateless(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token(ALICE)}", "Accept": "text/event-stream"}

    response = await http("GET", served.mcp_url, headers=headers)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"
