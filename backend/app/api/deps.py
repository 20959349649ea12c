"""Dependencies routes take as parameters: the caller, the database, the task id, a page."""

import logging
import uuid
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.database import Database
from app.errors import AuthError, InvalidToken, NotAuthenticated, TaskNotFound
from app.pagination import PageParams, page_params
from app.state import app_state

auth_log = logging.getLogger("taskapi.auth")

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT from Better Auth (or `taskapi token --user NAME` in development).",
)


async def current_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The caller's id, from a verified token and nowhere else."""
    try:
        if credentials is None:
            raise NotAuthenticated(reason="no 'Authorization: Bearer' header")
        if len(request.headers.getlist("authorization")) > 1:
            # RFC 9110 allows one; two means a proxy and the app may disagree about the caller.
            raise InvalidToken(reason="more than one Authorization header")
        return await app_state(request.app).token_verifier.verify(credentials.credentials)
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


async def database(request: Request) -> Database:
    return app_state(request.app).database


async def task_id_from_path(
    task_id: Annotated[
        str, Path(description="The task's UUID.", json_schema_extra={"format": "uuid"})
    ],
) -> uuid.UUID:
    """A malformed id cannot name any task: 404, like a missing one."""
    try:
        return uuid.UUID(task_id)
    except ValueError:
        raise TaskNotFound() from None


CurrentUserId = Annotated[str, Depends(current_user_id)]
DatabaseDep = Annotated[Database, Depends(database)]
TaskId = Annotated[uuid.UUID, Depends(task_id_from_path)]
Pagination = Annotated[PageParams, Depends(page_params)]
