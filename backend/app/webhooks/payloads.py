"""What a delivery carries: Standard Webhooks' `{type, timestamp, data}`, with the entity as
the API returns it, rebuilt from the outbox event's state (the entity as that change left it,
not as it is when the worker reads it)."""

from datetime import datetime
from typing import Any

from app.http.responses import json_bytes
from app.kit.etags import etag_of
from app.lists.schemas import ListRead
from app.tasks.schemas import PRIORITIES, TaskRead

# (entity_type, kind) of an outbox event -> the webhook type it is delivered as.
EVENT_TYPES = {
    ("task", "created"): "task.created",
    ("task", "updated"): "task.updated",
    ("task", "completed"): "task.completed",
    ("task", "deleted"): "task.deleted",
    ("task", "reminder_fired"): "reminder.fired",
    ("list", "created"): "list.created",
    ("list", "updated"): "list.updated",
    ("list", "deleted"): "list.deleted",
    ("webhook", "disabled"): "webhook.disabled",
}
_TIMES = ("created_at", "updated_at", "completed_at", "due_at")
# The list's counts change with its tasks, not with the list: its events do not hold them.
_LIST_COUNTS = {"task_count", "open_task_count"}


def body_of(event_type: str, at: datetime, data: Any) -> str:
    # Serialised as the API's responses are (the same bytes for the same entity).
    return json_bytes({"type": event_type, "timestamp": at, "data": data}).decode()


def event_body(event: dict[str, Any]) -> tuple[str, str] | None:
    """(webhook type, body) of an outbox event; None for events webhooks do not carry."""
    event_type = EVENT_TYPES.get((event["entity_type"], event["kind"]))
    if event_type is None:
        return None
    return event_type, body_of(event_type, event["occurred_at"], _data(event))


def _data(event: dict[str, Any]) -> dict[str, Any]:
    state = event["state"]
    if state is None:  # a deletion's tombstone
        return {"id": str(event["entity_id"])}
    if event["entity_type"] == "webhook":
        return dict(state)  # {id, url, disabled_reason}
    state = _utc_times(state)
    state["etag"] = etag_of(state.get("version", 0))
    if event["entity_type"] == "list":
        entity = ListRead.model_validate({**state, "task_count": 0, "open_task_count": 0})
        return entity.model_dump(exclude=_LIST_COUNTS)
    # Stored as its rank (0-3), shown as its name.
    state["priority"] = PRIORITIES[state.get("priority") or 0]
    return TaskRead.model_validate({**state, "user_id": event["scope_id"]}).model_dump()


def _utc_times(state: dict[str, Any]) -> dict[str, Any]:
    """SQLite's triggers store naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff'); PostgreSQL's
    JSON has the offset already."""
    fixed = dict(state)
    for name in _TIMES:
        value = fixed.get(name)
        if isinstance(value, str) and value[-6] not in "+-" and not value.endswith("Z"):
            fixed[name] = value.replace(" ", "T") + "+00:00"
    return fixed
