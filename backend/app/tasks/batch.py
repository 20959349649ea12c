"""`POST /api/tasks/batch`: operations applied in order in one transaction, all or none.

Each operation is the same service call its own route makes (app.tasks.service), joined to
the batch's unit of work, so it follows the same rules and writes the same events: one per
entity an operation changes (a batch that creates and then updates a task numbers two changes
of it). The first refusal rolls everything back; its error names the operation."""

import uuid
from typing import Any

from app.db.database import Database
from app.errors import ApiError, InvalidIfMatch, ValidationFailed
from app.kit.etags import Precondition
from app.tasks import service
from app.tasks.batch_schemas import (
    BatchRequest,
    CompleteOperation,
    CreateOperation,
    DeleteOperation,
    MoveOperation,
    Operation,
    UpdateOperation,
)
from app.tasks.family import TreeLimits
from app.tasks.repository import TaskRecord
from app.tasks.schemas import TaskUpdate

_COMPLETE = TaskUpdate(is_completed=True)


class _TempIds:
    """temp_id -> the id the server gave the task."""

    def __init__(self) -> None:
        self.ids: dict[uuid.UUID, uuid.UUID] = {}

    def add(self, temp_id: uuid.UUID | None, task_id: uuid.UUID) -> None:
        if temp_id is None:
            return
        if temp_id in self.ids:
            raise ValidationFailed("temp_id: already used by an earlier create of this batch")
        self.ids[temp_id] = task_id

    def __call__(self, task_id: uuid.UUID | None) -> Any:
        return None if task_id is None else self.ids.get(task_id, task_id)


def _precondition(value: str | None) -> Precondition | None:
    precondition = Precondition.parse(value, weak_matches=False)
    if precondition is not None and precondition.malformed:
        raise InvalidIfMatch()
    return precondition


async def run_batch(
    database: Database, owner: str, batch: BatchRequest, limits: TreeLimits, max_operations: int
) -> list[dict[str, Any]]:
    if len(batch.operations) > max_operations:
        raise ValidationFailed(f"operations: at most {max_operations} operations in one batch")
    temp_ids = _TempIds()
    results = []
    async with database.unit_of_work(owner):
        for index, operation in enumerate(batch.operations):
            try:
                results.append(await _apply(database, owner, operation, temp_ids, limits))
            except ApiError as error:
                error.detail = f"operations[{index}] ({operation.op}): {error.detail}"
                raise
    return results


async def _apply(
    database: Database, owner: str, operation: Operation, temp_ids: _TempIds, limits: TreeLimits
) -> dict[str, Any]:
    if isinstance(operation, CreateOperation):
        data = operation.task
        if data.parent_id is not None:
            data = data.model_copy(update={"parent_id": temp_ids(data.parent_id)})
        task = await service.create_task(database, owner, data, limits)
        temp_ids.add(operation.temp_id, task["id"])
        return _result(operation.op, task["id"], task, operation.temp_id)
    task_id = temp_ids(operation.id)
    if_match = _precondition(operation.if_match)
    written: TaskRecord | None = None
    if isinstance(operation, UpdateOperation | CompleteOperation):
        changes = operation.changes if isinstance(operation, UpdateOperation) else _COMPLETE
        written = await service.update_task(
            database, owner, task_id, changes, if_match, limits.max_tasks_per_list
        )
    elif isinstance(operation, MoveOperation):
        move = operation.to.model_copy(
            update={
                name: temp_ids(getattr(operation.to, name))
                for name in ("parent_id", "after", "before")
                if getattr(operation.to, name) is not None
            }
        )
        written = await service.move_task(database, owner, task_id, move, limits, if_match)
    else:
        assert isinstance(operation, DeleteOperation)
        await service.delete_task(database, owner, task_id, if_match)
    return _result(operation.op, task_id, written)


def _result(
    op: str, task_id: uuid.UUID, task: TaskRecord | None, temp_id: uuid.UUID | None = None
) -> dict[str, Any]:
    return {"op": op, "id": task_id, "temp_id": temp_id, "task": task}
