"""Dependencies routes take as parameters: the caller, the database, the task id, a page."""

import logging
import re
import uuid
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from starlette.convertors import Convertor, register_url_convertor

from app.config import Settings
from app.database import Database
from app.errors import AuthError, InvalidToken, NotAuthenticated, TaskNotFound
from app.pagination import PageParams, page_params
from app.state import app_state, set_caller

auth_log = logging.getLogger("taskapi.auth")
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


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


async def database(request: Request) -> Database:
    return app_state(request.app).database


async def settings(request: Request) -> Settings:
    return app_state(request.app).settings


class TaskIdSegment(Convertor[str]):
    """The `{task_id}` path segment: anything (a malformed id is a 404 TASK_NOT_FOUND, below)
    except the names of the collection's own sub-resources, so `PUT /api/tasks/changes` is a
    405 of that resource rather than a request about a task called "changes"."""

    regex = "(?!(?:changes|events)$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("task_id", TaskIdSegment())
# Route paths write it `/{task_id:task_id}`; the OpenAPI document shows `/{task_id}`.
TASK_ID_PATH = "/{task_id:task_id}"


async def task_id_from_path(
    task_id: Annotated[
        str, Path(description="The task's UUID.", json_schema_extra={"format": "uuid"})
    ],
) -> uuid.UUID:
    """A malformed id cannot name any task: 404, like a missing one. Only the canonical
    spelling (8-4-4-4-12 hex digits, either case) names one: `uuid.UUID` would also take
    `{...}`, `urn:uuid:...` and 32 bare digits, so one task would have four addresses."""
    if _CANONICAL_UUID.fullmatch(task_id) is None:
        raise TaskNotFound(TaskNotFound.NOT_A_UUID)
    return uuid.UUID(task_id)


CurrentUserId = Annotated[str, Depends(current_user_id)]
DatabaseDep = Annotated[Database, Depends(database)]
SettingsDep = Annotated[Settings, Depends(settings)]
TaskId = Annotated[uuid.UUID, Depends(task_id_from_path)]
Pagination = Annotated[PageParams, Depends(page_params)]
