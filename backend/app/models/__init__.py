"""Table models. Importing this package registers every table on `SQLModel.metadata`."""

from app.models.base import metadata
from app.models.schedule import Reminder, TaskCompletion
from app.models.sync import Event, IdempotencyKey, UserSync
from app.models.tag import TaskTag
from app.models.task import Task
from app.models.task_list import TaskList
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Event",
    "IdempotencyKey",
    "Reminder",
    "TaskCompletion",
    "Task",
    "TaskList",
    "TaskTag",
    "UserSync",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
