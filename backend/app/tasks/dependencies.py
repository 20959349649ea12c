"""The `{task_id}` path segment: how a task is addressed."""

import re
import uuid
from typing import Annotated

from fastapi import Path
from pydantic import BeforeValidator, WithJsonSchema
from starlette.convertors import Convertor, register_url_convertor

from app.errors import TaskNotFound

_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class TaskIdSegment(Convertor[str]):
    """The `{task_id}` path segment: anything (a malformed id is a 404 TASK_NOT_FOUND, below)
    except the names of the collection's own sub-resources, so `PUT /api/tasks/changes` is a
    405 of that resource rather than a request about a task called "changes"."""

    regex = "(?!(?:changes|events|batch)$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("task_id", TaskIdSegment())
# Route paths write it `/{task_id:task_id}`; the OpenAPI document shows `/{task_id}`.
TASK_ID_PATH = "/{task_id:task_id}"


def task_id_from_path(task_id: object) -> uuid.UUID:
    """A malformed id cannot name any task: 404, like a missing one. Only the canonical
    spelling (8-4-4-4-12 hex digits, either case) names one: `uuid.UUID` would also take
    `{...}`, `urn:uuid:...` and 32 bare digits, so one task would have four addresses."""
    if not isinstance(task_id, str) or _CANONICAL_UUID.fullmatch(task_id) is None:
        raise TaskNotFound(TaskNotFound.NOT_A_UUID)
    return uuid.UUID(task_id)


# A path parameter, not a dependency: FastAPI solves a dependency on every request (about 75,000
# instructions, 5% of a GET). The validator's TaskNotFound is not a ValueError, so Pydantic lets
# it through: a malformed id is a 404 before the body is read, as the dependency made it.
TaskId = Annotated[
    uuid.UUID,
    BeforeValidator(task_id_from_path),
    WithJsonSchema({"type": "string", "description": "The task's UUID.", "format": "uuid"}),
    Path(description="The task's UUID."),
]
