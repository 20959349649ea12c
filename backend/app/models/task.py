import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
USER_ID_MAX_LENGTH = 255


class Task(SQLModel, table=True):
    """A to-do item. `user_id` is the token's subject: opaque, no foreign key."""

    __tablename__ = "tasks"
    __table_args__ = (
        # Serves every owner lookup and the list query's ORDER BY in one index.
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        # Delta sync reads a user's tasks changed after a given seq.
        Index("ix_tasks_user_id_version", "user_id", "version"),
        CheckConstraint("length(title) >= 1", name="title_not_empty"),
        CheckConstraint("length(user_id) >= 1", name="user_id_not_empty"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    title: str = Field(sa_type=String(TITLE_MAX_LENGTH), nullable=False)
    description: str | None = Field(
        default=None, sa_type=String(DESCRIPTION_MAX_LENGTH), nullable=True
    )
    is_completed: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The user's change seq (app.models.sync.UserSync) of the last real change: the ETag, and
    # what delta sync compares. 0 for rows written before sync existed.
    version: int = Field(
        default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
