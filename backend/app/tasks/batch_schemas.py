"""Bodies of `POST /api/tasks/batch`: a list of operations, each tagged by `op`."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from app.kit.schemas import StrictInput
from app.tasks.schemas import TaskCreate, TaskMove, TaskRead, TaskRef, TaskUpdate

_ID = "The task's id, or the `temp_id` of an earlier `create` in this batch."
_IF_MATCH = (
    'Optional, as the `If-Match` header: write only if the task\'s ETag is one of these (`"12"`) '
    "or it exists (`*`); else the whole batch fails with 412 naming this operation."
)


class _OnTask(StrictInput):
    id: TaskRef = Field(description=_ID)
    if_match: str | None = Field(default=None, max_length=1000, description=_IF_MATCH)


class CreateOperation(StrictInput):
    op: Literal["create"]
    temp_id: TaskRef | None = Field(
        default=None,
        description="A UUID of your choosing: later operations of this batch may name the new "
        "task by it (as `id`, `parent_id`, `after`, `before`). The task gets an id of the "
        "server's, given in this operation's result.",
    )
    task: TaskCreate = Field(description="As the body of `POST /api/tasks`.")


class UpdateOperation(_OnTask):
    op: Literal["update"]
    changes: TaskUpdate = Field(description="As the body of `PUT /api/tasks/{id}`.")


class CompleteOperation(_OnTask):
    op: Literal["complete"]


class MoveOperation(_OnTask):
    op: Literal["move"]
    to: TaskMove = Field(description="As the body of `POST /api/tasks/{id}/move`.")


class DeleteOperation(_OnTask):
    op: Literal["delete"]


def _op_of(value: Any) -> Any:
    return value.get("op") if isinstance(value, dict) else getattr(value, "op", None)


# A callable discriminator: StrictInput's text check runs before every field, `op` included,
# which a plain `discriminator="op"` does not allow.
Operation = Annotated[
    Annotated[CreateOperation, Tag("create")]
    | Annotated[UpdateOperation, Tag("update")]
    | Annotated[CompleteOperation, Tag("complete")]
    | Annotated[MoveOperation, Tag("move")]
    | Annotated[DeleteOperation, Tag("delete")],
    Discriminator(
        _op_of,
        custom_error_type="invalid_op",
        custom_error_message="op must be one of: create, update, complete, move, delete",
    ),
]


class BatchRequest(StrictInput):
    operations: list[Operation] = Field(
        min_length=1,
        description="Applied in order, all or none; at most `MAX_BATCH_OPERATIONS` (100).",
    )


class OperationResult(BaseModel):
    op: Literal["create", "update", "complete", "move", "delete"]
    id: uuid.UUID = Field(description="The task's id (a create's: the new one).")
    temp_id: uuid.UUID | None = Field(default=None, description="A create's `temp_id`, if sent.")
    task: TaskRead | None = Field(description="The task as stored after it; null for a delete.")


class BatchResult(BaseModel):
    results: list[OperationResult] = Field(description="One per operation, in order.")
