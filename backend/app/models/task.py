import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from app.kit.keys import NO_DUE
from app.models.base import JsonText, TagList, UTCDateTime

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
USER_ID_MAX_LENGTH = 255
TAG_MAX_LENGTH = 50
MAX_TAGS_PER_TASK = 20
POSITION_MAX_LENGTH = 255  # the column; the POSITION_KEY_MAX_LENGTH setting is at most this
# Position keys compare as bytes (app.kit.positions): PostgreSQL's default collation would not.
PositionKey = String(POSITION_MAX_LENGTH).with_variant(
    String(POSITION_MAX_LENGTH, collation="C"), "postgresql"
)


def _only_where(condition: str) -> dict[str, Any]:
    """A partial index, on both databases: only the rows that meet `condition`."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Task(SQLModel, table=True):
    """A to-do item. `user_id` is the token's subject: opaque, no foreign key.

    Columns ending in `_key` are derived from what the client wrote, on every write, so that
    SQL can search, compare and sort the same way on SQLite and PostgreSQL (see app.kit.keys).
    """

    __tablename__ = "tasks"
    __table_args__ = (
        # Serves every owner lookup and the list query's ORDER BY in one index.
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        # One per other sort order: each list page is a short range scan of one of them.
        Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_tasks_user_id_due_key_id", "user_id", "due_key", "id"),
        Index("ix_tasks_user_id_due_key_desc_id", "user_id", "due_key_desc", "id"),
        Index("ix_tasks_user_id_priority_id", "user_id", "priority", "id"),
        Index("ix_tasks_user_id_title_key_id", "user_id", "title_key", "id"),
        # A parent's children in their order (`?parent=`, moves, the counts' recount): only
        # tasks with a parent (migration 0013: the others' writes skip it), and every task in
        # position order (`sort=position` without `parent`, the top level).
        Index(
            "ix_tasks_user_id_parent_id_position_id",
            "user_id",
            "parent_id",
            "position",
            "id",
            **_only_where("parent_id IS NOT NULL"),
        ),
        Index("ix_tasks_user_id_position_id", "user_id", "position", "id"),
        # Delta sync reads a user's tasks changed after a given seq.
        Index("ix_tasks_user_id_version", "user_id", "version"),
        # `?list=`: one list's tasks in the default order (only tasks in a list; `?list=none`
        # walks the created_at index).
        Index(
            "ix_tasks_user_id_list_id_created_at_id",
            "user_id",
            "list_id",
            "created_at",
            "id",
            **_only_where("list_id IS NOT NULL"),
        ),
        # One list's tasks in position order (`?list=&sort=position`), and the top-level
        # siblings in a list a move reads (migration 0012).
        Index(
            "ix_tasks_user_id_list_id_position_id",
            "user_id",
            "list_id",
            "position",
            "id",
            **_only_where("list_id IS NOT NULL"),
        ),
        CheckConstraint("length(title) >= 1", name="title_not_empty"),
        CheckConstraint("length(user_id) >= 1", name="user_id_not_empty"),
        CheckConstraint("priority BETWEEN 0 AND 3", name="priority_rank"),
        CheckConstraint("due_date IS NULL OR due_at IS NULL", name="one_kind_of_due"),
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
    # Set by the server when the task becomes completed, cleared when it is reopened.
    completed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, nullable=True, exclude=True
    )
    # At most one of the two: an all-day date, or an instant (UTC).
    due_date: date | None = Field(default=None, sa_type=Date, nullable=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # 0 none, 1 low, 2 medium, 3 high: sorting by rank is sorting by the number.
    priority: int = Field(default=0, sa_type=SmallInteger, nullable=False)
    # As written, in order; `task_tags` holds the same names for filtering and counting.
    tags: list[str] = Field(default_factory=list, sa_type=TagList, nullable=False)
    # The list it belongs to, or None. No ON DELETE: deleting a list says what becomes of its
    # tasks (app.lists.service), and the database refuses a list deleted from under them.
    list_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid(), ForeignKey("lists.id"), nullable=True)
    )
    # Recurrence (app.recurrence) and reminders (app.reminders), as the client wrote them (the
    # recurrence also counts what is left of a COUNT); null for the many tasks without.
    recurrence: dict[str, object] | None = Field(default=None, sa_type=JsonText, nullable=True)
    reminders: list[dict[str, object]] | None = Field(default=None, sa_type=JsonText, nullable=True)
    # Derived (app.kit.keys): casefolded text to search and sort, and the due date as two sort
    # keys that put tasks without one last in either direction.
    # Server-derived columns stay out of `model_dump()`: it shows what clients wrote.
    title_key: str = Field(default="", sa_type=Text, nullable=False, exclude=True)
    description_key: str = Field(default="", sa_type=Text, nullable=False, exclude=True)
    due_key: int = Field(default=NO_DUE, sa_type=BigInteger, nullable=False, exclude=True)
    due_key_desc: int = Field(default=NO_DUE, sa_type=BigInteger, nullable=False, exclude=True)
    # The task this one is a step of (the same owner's; no foreign key: SQLite could add one
    # only by copying the table, and app.tasks.family keeps parents and children together).
    parent_id: uuid.UUID | None = Field(default=None, nullable=True)
    # Its place among its siblings (same parent): a fractional key, app.kit.positions.
    position: str = Field(
        default="a0", sa_type=PositionKey, nullable=False, sa_column_kwargs={"server_default": "a0"}
    )
    # Its direct children, and how many of them are open: kept by every write of a child, in
    # the child's transaction (app.tasks.family), so reading them costs nothing.
    subtask_count: int = Field(
        default=0, sa_type=Integer, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    open_subtask_count: int = Field(
        default=0, sa_type=Integer, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    # The user's change seq (app.models.sync.UserSync) of the last real change: the ETag, and
    # what delta sync compares. 0 for rows written before sync existed.
    version: int = Field(
        default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
