"""Tables behind recurring tasks and reminders (app.recurrence, app.reminders). The rule and
the reminders as the client wrote them live on the task row itself (`tasks.recurrence`,
`tasks.reminders`), so reading a task costs no query here; these tables hold what is derived."""

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, SmallInteger, String, Uuid, text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime
from app.models.task import USER_ID_MAX_LENGTH


class TaskCompletion(SQLModel, table=True):
    """One completed occurrence of a recurring task: which one, and when it was completed."""

    __tablename__ = "task_completions"
    __table_args__ = (
        Index(
            "ix_task_completions_user_id_task_id_completed_at", "user_id", "task_id", "completed_at"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    task_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    )
    # The occurrence completed: the due it had (one of the two, as the task's due).
    due_date: date | None = Field(default=None, sa_type=Date, nullable=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    completed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Reminder(SQLModel, table=True):
    """One planned firing of one of a task's reminders. Re-planned (rows replaced) when the
    task's due or reminders change and when a recurring task moves on; `fired_at` is set by
    the one claim that fires it (app.reminders.repository)."""

    __tablename__ = "reminders"
    __table_args__ = (
        # The poller's only read: the unfired ones whose time has come, oldest first.
        Index(
            "ix_reminders_fire_at_unfired",
            "fire_at",
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
        # One owner's due ones, claimed together in the owner's transaction.
        Index(
            "ix_reminders_user_id_fire_at_unfired",
            "user_id",
            "fire_at",
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
        Index("ix_reminders_task_id", "task_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: str = Field(sa_type=String(USER_ID_MAX_LENGTH), nullable=False)
    task_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    )
    # Which of the task's reminders (its index in `tasks.reminders`).
    number: int = Field(sa_type=SmallInteger, nullable=False)
    fire_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # fired, late (fired after its time, within the maximum lateness) or dropped (task
    # completed, or older than the maximum lateness): set with `fired_at`.
    outcome: str | None = Field(default=None, sa_type=String(8), nullable=True)
