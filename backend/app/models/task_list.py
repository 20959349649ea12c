"""A list of tasks (a project, in other apps' words): owned like tasks, ordered by the user."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime
from app.models.task import USER_ID_MAX_LENGTH, PositionKey

LIST_NAME_MAX_LENGTH = 255


class TaskList(SQLModel, table=True):
    __tablename__ = "lists"
    __table_args__ = (
        # The user's lists in their order; unique, so two lists never tie.
        Index("ix_lists_user_id_position", "user_id", "position", unique=True),
        # Delta sync reads a user's lists changed after a given seq.
        Index("ix_lists_user_id_version", "user_id", "version"),
        CheckConstraint("length(name) >= 1", name="name_not_empty"),
        CheckConstraint("task_count >= 0 AND open_task_count >= 0", name="counts_not_negative"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    name: str = Field(sa_type=String(LIST_NAME_MAX_LENGTH), nullable=False)
    color: str | None = Field(default=None, sa_type=String(7), nullable=True)  # "#rrggbb"
    position: str = Field(sa_type=PositionKey, nullable=False)
    archived: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The user's change seq of the list's last real change (app.db.sequenced): its ETag.
    version: int = Field(sa_type=BigInteger, nullable=False)
    # Kept by triggers on `tasks` (migration 0009), in the task write's own statement.
    task_count: int = Field(
        default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    open_task_count: int = Field(
        default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
