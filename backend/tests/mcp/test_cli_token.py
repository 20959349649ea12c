"""`taskapi token --mcp`: a development token for /mcp (its audience, issuer and scopes)."""

from pathlib import Path

import jwt

from tests.ops.test_cli import clean_env, taskapi
from tests.support.helpers import SECRET

__all__ = ["clean_env"]  # the fixture, used by name below

MCP_URL = "http://127.0.0.1:8000/mcp"


def test_an_mcp_token_names_the_resource_and_holds_the_scopes(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    env = clean_env | {
        "BETTER_AUTH_SECRET": SECRET,
        "MCP_RESOURCE_URL": MCP_URL,
        "MCP_READ_SCOPE": "tasks:read",
        "MCP_WRITE_SCOPE": "tasks:write",
    }

    result = taskapi(tmp_path, env, "token", "--mcp", "--user", "alice")

    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"], audience=MCP_URL)
    assert claims["sub"] == "alice"
    assert claims["scope"] == "tasks:read tasks:write"


def test_an_mcp_token_needs_the_resource_url(tmp_path: Path, clean_env: dict[str, str]) -> None:
    result = taskapi(tmp_path, clean_env, "token", "--mcp", "--user", "alice")

    assert result.returncode != 0
    assert "--mcp needs MCP_RESOURCE_URL" in result.stderr
    assert result.stdout == ""
