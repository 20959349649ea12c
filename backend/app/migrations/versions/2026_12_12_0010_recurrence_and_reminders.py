"""recurrence and reminders: `tasks.recurrence`, `tasks.reminders`, `task_completions`,
`reminders`

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12

Two nullable JSON-in-text columns on `tasks` (null for every existing task: nothing about them
changes). The SQLite sync triggers are written again so an event's state carries `recurrence`
(which occurrence was completed, what is left) and `reminders`; PostgreSQL builds the state
in the write's own statement (app.db.sequenced). The reminders' planned firings get their own
table with a partial index on the unfired ones' time, so the poller never scans tasks. Both
new tables go with their task (ON DELETE CASCADE).

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _state(with_recurrence: bool) -> str:
    """The stored columns an event's state holds (app.db.sequenced.TASK_STATE)."""
    return (
        "json_object('id', NEW.id, 'title', NEW.title, 'description', NEW.description,"
        " 'is_completed', json(CASE WHEN NEW.is_completed THEN 'true' ELSE 'false' END),"
        " 'created_at', NEW.created_at, 'updated_at', NEW.updated_at,"
        " 'completed_at', NEW.completed_at, 'due_date', NEW.due_date, 'due_at', NEW.due_at,"
        " 'priority', NEW.priority, 'tags', json(NEW.tags),"
        " 'parent_id', NEW.parent_id, 'position', NEW.position,"
        " 'subtask_count', NEW.subtask_count, 'open_subtask_count', NEW.open_subtask_count,"
        " 'version', NEW.version, 'list_id', NEW.list_id"
        + (
            ", 'recurrence', json(NEW.recurrence), 'reminders', json(NEW.reminders))"
            if with_recurrence
            else ")"
        )
    )


_STORE_COUNTER = (
    "INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (NEW.user_id, NEW.version, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq);"
)
_EVENT_COLUMNS = "(scope_id, seq, entity_type, entity_id, kind, actor, occurred_at, state)"


def sqlite_sync_triggers(with_recurrence: bool) -> tuple[str, str]:
    """Migration 0009's insert and update triggers, with or without `recurrence` in the state."""
    state = _state(with_recurrence)
    return (
        "CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN "
        + _STORE_COUNTER
        + f" INSERT INTO events {_EVENT_COLUMNS}"
        f" SELECT NEW.user_id, NEW.version, 'task', NEW.id, 'created', NEW.user_id,"
        f" NEW.updated_at, {state} WHERE NEW.version > 0;"
        " END",
        "CREATE TRIGGER tasks_sync_update AFTER UPDATE OF version ON tasks"
        " WHEN NEW.version <> OLD.version BEGIN "
        + _STORE_COUNTER
        + f" INSERT INTO events {_EVENT_COLUMNS}"
        " SELECT NEW.user_id, NEW.version, 'task', NEW.id,"
        " CASE WHEN NEW.is_completed AND NOT OLD.is_completed THEN 'completed' ELSE 'updated' END,"
        f" NEW.user_id, NEW.updated_at, {state} WHERE NEW.version > 0;"
        " END",
    )


def _replace_sync_triggers(*, with_recurrence: bool) -> None:
    for name in ("tasks_sync_insert", "tasks_sync_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for trigger in sqlite_sync_triggers(with_recurrence):
        op.execute(trigger)


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
    op.create_index(
        "ix_reminders_user_id_fire_at_unfired",
        "reminders",
        ["user_id", "fire_at"],
        postgresql_where=sa.text("fired_at IS NULL"),
        sqlite_where=sa.text("fired_at IS NULL"),
    )
    op.create_index("ix_reminders_task_id", "reminders", ["task_id"])
    if op.get_bind().dialect.name != "postgresql":
        _replace_sync_triggers(with_recurrence=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _replace_sync_triggers(with_recurrence=False)
    op.drop_index("ix_reminders_task_id", table_name="reminders")
    op.drop_index("ix_reminders_user_id_fire_at_unfired", table_name="reminders")
    op.drop_index("ix_reminders_fire_at_unfired", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_task_completions_user_id_task_id_completed_at", table_name="task_completions")
    op.drop_table("task_completions")
    op.execute("ALTER TABLE tasks DROP COLUMN reminders")
    op.execute("ALTER TABLE tasks DROP COLUMN recurrence")
