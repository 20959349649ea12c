"""The body of GET /api/tasks/changes."""

import uuid

from pydantic import BaseModel, Field

from app.lists.schemas import ListRead
from app.tasks.schemas import TaskRead


class ChangesRead(BaseModel):
    tasks: list[TaskRead] = Field(
        description="Tasks created or changed since the token, as they are now, oldest first."
    )
    deleted: list[uuid.UUID] = Field(description="Ids of tasks deleted since the token.")
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
