"""subtasks and a manual order: parent_id, position, the children's counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

Existing tasks become top-level tasks with no children, ordered as they were created: each
gets the position key an append at its `created_at` gets (app.kit.positions, without the random
suffix; equal keys are ordered by id). SQLite's sync triggers put the new columns in every
event's state, as PostgreSQL's CTEs do (app.db.sequenced.TASK_STATE).

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INDEXES = {
    "ix_tasks_user_id_parent_id_position_id": ["user_id", "parent_id", "position", "id"],
    "ix_tasks_user_id_position_id": ["user_id", "position", "id"],
}


def _state(extra: str) -> str:
    return (
        "json_object('id', NEW.id, 'title', NEW.title, 'description', NEW.description,"
        " 'is_completed', json(CASE WHEN NEW.is_completed THEN 'true' ELSE 'false' END),"
        " 'created_at', NEW.created_at, 'updated_at', NEW.updated_at,"
        " 'completed_at', NEW.completed_at, 'due_date', NEW.due_date, 'due_at', NEW.due_at,"
        f" 'priority', NEW.priority, 'tags', json(NEW.tags),{extra} 'version', NEW.version)"
    )


_NEW_STATE = _state(
    " 'parent_id', NEW.parent_id, 'position', NEW.position,"
    " 'subtask_count', NEW.subtask_count, 'open_subtask_count', NEW.open_subtask_count,"
)
_OLD_STATE = _state("")
_STORE_COUNTER = (
    "INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (NEW.user_id, NEW.version, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq);"
)
_EVENT_COLUMNS = "(scope_id, seq, entity_type, entity_id, kind, actor, occurred_at, state)"


def _triggers(state: str) -> tuple[str, str]:
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


def _replace_triggers(state: str) -> None:
    for name in ("tasks_sync_insert", "tasks_sync_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for trigger in _triggers(state):
        op.execute(trigger)


def _append_key(created_at: datetime) -> str:
    if created_at.tzinfo is None:  # SQLite hands back naive UTC
        created_at = created_at.replace(tzinfo=UTC)
    delta = created_at - _EPOCH
    number = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    digits = []
    for _ in range(9):
        number, digit = divmod(number, 62)
        digits.append(_DIGITS[digit])
    return "i" + "".join(reversed(digits))


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    position_type = sa.String(length=255)
    if not sqlite:
        position_type = sa.String(length=255, collation="C")
    # Plain ALTER TABLE on both: a batch copy of the table would trip over the sync triggers.
    op.add_column("tasks", sa.Column("parent_id", sa.Uuid(), nullable=True))
    op.add_column(
        "tasks", sa.Column("position", position_type, server_default="a0", nullable=False)
    )
    for name in ("subtask_count", "open_subtask_count"):
        op.add_column("tasks", sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("position", sa.String()),
    )
    rows = bind.execute(sa.select(tasks.c.id, tasks.c.created_at)).all()
    if rows:
        bind.execute(
            tasks.update()
            .where(tasks.c.id == sa.bindparam("task_id"))
            .values(position=sa.bindparam("key")),
            [{"task_id": row.id, "key": _append_key(row.created_at)} for row in rows],
        )
    for name, columns in _INDEXES.items():
        op.create_index(name, "tasks", columns, unique=False)
    if sqlite:
        _replace_triggers(_NEW_STATE)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _replace_triggers(_OLD_STATE)
    for name in _INDEXES:
        op.drop_index(name, table_name="tasks")
    for column in ("open_subtask_count", "subtask_count", "position", "parent_id"):
        op.drop_column("tasks", column)
