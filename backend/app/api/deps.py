"""Dependencies routes take as parameters: the caller, the session, the task id."""

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AuthError, InvalidToken, NotAuthenticated, TaskNotFound

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
        return await request.app.state.token_verifier.verify(credentials.credentials)  # type: ignore[no-any-return]
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


async def database_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


def task_id_from_path(
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
SessionDep = Annotated[AsyncSession, Depends(database_session)]
TaskId = Annotated[uuid.UUID, Depends(task_id_from_path)]
