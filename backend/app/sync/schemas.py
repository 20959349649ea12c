"""The body of GET /api/tasks/changes."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.lists.schemas import ListRead
from app.tasks.schemas import TaskRead


class FiredReminderRead(BaseModel):
    id: uuid.UUID
    number: int = Field(description="Which of the task's `reminders` (0-based).")
    fire_at: datetime = Field(description="When it was due.")
    fired_at: datetime = Field(description="When it fired.")
    late: bool = Field(description="It fired later than 2 minutes after `fire_at`.")


class ReminderFiredRead(BaseModel):
    """A `reminder.fired` event."""

    task: TaskRead
    reminder: FiredReminderRead


class ChangesRead(BaseModel):
    tasks: list[TaskRead] = Field(
        description="Tasks created or changed since the token, as they are now, oldest first."
    )
    deleted: list[uuid.UUID] = Field(description="Ids of tasks deleted since the token.")
    reminders_fired: list[ReminderFiredRead] = Field(
        description="Reminders fired since the token, oldest first, each with its task as it "
        "is now (a task deleted since is left out)."
    )
    next_token: str = Field(description="Pass as `since` next time (opaque).")
    has_more: bool = Field(
        description="More changes follow: call again at once with `next_token` (also in `Link`)."
    )


class AllChangesRead(ChangesRead):
    """The body of GET /api/changes: tasks and lists. A client applies `lists` before `tasks`
    (a task names its list) and `deleted` before `deleted_lists`."""

    lists: list[ListRead] = Field(
        description="Lists created or changed since the token, as they are now, oldest first."
    )
    deleted_lists: list[uuid.UUID] = Field(description="Ids of lists deleted since the token.")
