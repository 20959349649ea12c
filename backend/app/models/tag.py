import uuid

from sqlalchemy import Column, ForeignKey, Index, String, Text, Uuid
from sqlmodel import Field, SQLModel

from app.models.task import TAG_MAX_LENGTH, USER_ID_MAX_LENGTH


class TaskTag(SQLModel, table=True):
    """One tag on one task: the rows behind `tag=` filters and `GET /api/tags` counts.

    `user_id` repeats the task's owner so every tag query filters by owner in SQL, like every
    task query; `name_key` is the casefolded name that comparisons use (app.kit.keys)."""

    __tablename__ = "task_tags"
    __table_args__ = (
        # The tag filter and the per-user counts: one range of this index per tag.
        Index("ix_task_tags_user_id_name_key_task_id", "user_id", "name_key", "task_id"),
    )

    task_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    name_key: str = Field(sa_type=Text, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    name: str = Field(sa_type=String(TAG_MAX_LENGTH), nullable=False)
