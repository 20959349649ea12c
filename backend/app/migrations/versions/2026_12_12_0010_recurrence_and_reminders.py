"""recurrence and reminders: `tasks.recurrence`, `tasks.reminders`, `task_completions`,
`reminders`

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12

Two nullable JSON-in-text columns on `tasks` (null for every existing task: nothing about them
changes, and the sync triggers, which list their columns, stay as they are). The reminders'
planned firings get their own table with a partial index on the unfired ones' time, so the
poller never scans tasks. Both new tables go with their task (ON DELETE CASCADE).

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("recurrence", sa.Text(), nullable=True))
    op.add_column("tasks", sa.Column("reminders", sa.Text(), nullable=True))
    op.create_table(
        "task_completions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column(
            "task_id",
            sa.Uuid(),
            sa.ForeignKey(
                "tasks.id", name=op.f("fk_task_completions_task_id_tasks"), ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_completions")),
    )
    op.create_index(
        "ix_task_completions_user_id_task_id_completed_at",
        "task_completions",
        ["user_id", "task_id", "completed_at"],
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column(
            "task_id",
            sa.Uuid(),
            sa.ForeignKey("tasks.id", name=op.f("fk_reminders_task_id_tasks"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(
        "ix_reminders_fire_at_unfired",
        "reminders",
        ["fire_at"],
        postgresql_where=sa.text("fired_at IS NULL"),
        sqlite_where=sa.text("fired_at IS NULL"),
    )
    op.create_index("ix_reminders_task_id", "reminders", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_reminders_task_id", table_name="reminders")
    op.drop_index("ix_reminders_fire_at_unfired", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_task_completions_user_id_task_id_completed_at", table_name="task_completions")
    op.drop_table("task_completions")
    op.execute("ALTER TABLE tasks DROP COLUMN reminders")
    op.execute("ALTER TABLE tasks DROP COLUMN recurrence")
