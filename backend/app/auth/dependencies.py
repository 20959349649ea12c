"""The caller of a request: a verified bearer token's user id, and nothing else."""

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param

from app.errors import AuthError, InvalidToken, NotAuthenticated
from app.state import app_state, set_caller

auth_log = logging.getLogger("taskapi.auth")


class BearerUser(SecurityBase):
    """`Authorization: Bearer <JWT>` as a single dependency: OpenAPI documents it as FastAPI's
    `HTTPBearer` scheme, and calling it gives the verified caller's id. (HTTPBearer plus a
    dependency on it cost a second dependency solve on every request.)"""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="A JWT from Better Auth (or `taskapi token --user NAME` in development).",
        )
        self.scheme_name = "HTTPBearer"

    async def __call__(self, request: Request) -> str:
        """The caller's id, from a verified token and nowhere else."""
        try:
            scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
            if scheme.lower() != "bearer" or not token:
                raise NotAuthenticated(reason="no 'Authorization: Bearer' header")
            if len(request.headers.getlist("authorization")) > 1:
                # RFC 9110 allows one; two means a proxy and the app may disagree about the caller.
                raise InvalidToken(reason="more than one Authorization header")
            user_id = await app_state(request.app).token_verifier.verify(token)
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
        set_caller(request.scope, user_id)
        return user_id


current_user_id = BearerUser()


CurrentUserId = Annotated[str, Depends(current_user_id)]
