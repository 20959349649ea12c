"""The `{task_id}` path segment: how a task is addressed."""

import re
import uuid
from typing import Annotated

from fastapi import Depends, Path
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


TaskId = Annotated[uuid.UUID, Depends(task_id_from_path)]
