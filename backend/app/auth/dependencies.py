"""The caller of a request, as route dependencies: the verified Principal, or just its user id."""

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from app.auth.authenticate import authenticate
from app.auth.principal import Principal
from app.errors import AuthError
from app.state import app_state

auth_log = logging.getLogger("taskapi.auth")


class _Bearer(SecurityBase):
    """`Authorization: Bearer <JWT>` as a single dependency: OpenAPI documents it as FastAPI's
    `HTTPBearer` scheme, and calling it gives the request's Principal, authenticated by the
    rate limit already when it is on. (HTTPBearer plus a dependency on it cost a second
    dependency solve on every request.)"""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="A JWT from Better Auth (or `taskapi token --user NAME` in development).",
        )
        self.scheme_name = "HTTPBearer"

    async def _principal(self, request: Request) -> Principal:
        try:
            return await authenticate(request.scope, app_state(request.app).token_verifier)
        except AuthError as error:
            client = request.client.host if request.client else "-"
            auth_log.warning(
                "authentication failed: %s (%s %s from %s)",
                error.reason,
                request.method,
                request.url.path,
                client,
            )
            raise


class BearerPrincipal(_Bearer):
    async def __call__(self, request: Request) -> Principal:
        return await self._principal(request)


class BearerUser(_Bearer):
    """The verified caller's id: all most routes need."""

    async def __call__(self, request: Request) -> str:
        principal = await self._principal(request)
        return principal.user_id


current_principal = BearerPrincipal()
current_user_id = BearerUser()

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentUserId = Annotated[str, Depends(current_user_id)]
