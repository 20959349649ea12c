"""OAuth 2.0 Protected Resource Metadata (RFC 9728) for /mcp: where a client learns which
authorization server issues tokens for it, and which scopes it knows."""

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.config import Settings

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_path(resource_url: str) -> str:
    """RFC 9728 3.1: the well-known prefix, then the resource's own path
    (https://api.example.com/mcp -> /.well-known/oauth-protected-resource/mcp)."""
    path = urlsplit(resource_url).path.rstrip("/")
    return WELL_KNOWN + path


def metadata_url(resource_url: str) -> str:
    parts = urlsplit(resource_url)
    return f"{parts.scheme}://{parts.netloc}{metadata_path(resource_url)}"


def scopes_of(settings: Settings) -> list[str]:
    scopes = (settings.mcp_read_scope, settings.mcp_write_scope)
    return list(dict.fromkeys(scope for scope in scopes if scope))


def metadata(settings: Settings) -> dict[str, object]:
    assert settings.mcp_resource_url is not None
    document: dict[str, object] = {
        "resource": settings.mcp_resource_url,
        "bearer_methods_supported": ["header"],
        "resource_name": "taskapi",
    }
    if settings.mcp_issuer:
        document["authorization_servers"] = [settings.mcp_issuer]
    if scopes_of(settings):
        document["scopes_supported"] = scopes_of(settings)
    return document


def metadata_endpoint(settings: Settings) -> Callable[[Request], Awaitable[JSONResponse]]:
    """GET of a fixed document: built once, public (no token), cacheable for an hour."""
    document = metadata(settings)

    async def protected_resource_metadata(request: Request) -> JSONResponse:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

    return protected_resource_metadata
