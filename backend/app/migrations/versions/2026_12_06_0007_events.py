"""events: the outbox, written with every change; tombstones become events of kind deleted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Every task write appends one row to `events` in its own statement: on PostgreSQL a
data-modifying CTE of the write (app.db.sequenced), on SQLite the sync triggers below. A
deleted task's tombstone is its `deleted` event: existing tombstones move there, with their seq
and time, so /api/tasks/changes answers exactly as before.

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The stored columns an event's state holds (the same as app.db.sequenced.TASK_STATE).
_STATE = (
    "json_object('id', NEW.id, 'title', NEW.title, 'description', NEW.description,"
    " 'is_completed', json(CASE WHEN NEW.is_completed THEN 'true' ELSE 'false' END),"
    " 'created_at', NEW.created_at, 'updated_at', NEW.updated_at,"
    " 'completed_at', NEW.completed_at, 'due_date', NEW.due_date, 'due_at', NEW.due_at,"
    " 'priority', NEW.priority, 'tags', json(NEW.tags), 'version', NEW.version)"
)
_STORE_COUNTER = (
    "INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (NEW.user_id, NEW.version, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq);"
)
_EVENT_COLUMNS = "(scope_id, seq, entity_type, entity_id, kind, actor, occurred_at, state)"
# A row written without the API (version 0) has no change number, so no event.
SQLITE_TRIGGERS = (
    "CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN "
    + _STORE_COUNTER
    + f" INSERT INTO events {_EVENT_COLUMNS}"
    f" SELECT NEW.user_id, NEW.version, 'task', NEW.id, 'created', NEW.user_id,"
    f" NEW.updated_at, {_STATE} WHERE NEW.version > 0;"
    " END",
    "CREATE TRIGGER tasks_sync_update AFTER UPDATE OF version ON tasks"
    " WHEN NEW.version <> OLD.version BEGIN "
    + _STORE_COUNTER
    + f" INSERT INTO events {_EVENT_COLUMNS}"
    " SELECT NEW.user_id, NEW.version, 'task', NEW.id,"
    " CASE WHEN NEW.is_completed AND NOT OLD.is_completed THEN 'completed' ELSE 'updated' END,"
    f" NEW.user_id, NEW.updated_at, {_STATE} WHERE NEW.version > 0;"
    " END",
    "CREATE TRIGGER tasks_sync_delete AFTER DELETE ON tasks BEGIN"
    " INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (OLD.user_id, 1, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;"
    f" INSERT INTO events {_EVENT_COLUMNS}"
    " SELECT OLD.user_id, seq, 'task', OLD.id, 'deleted', OLD.user_id,"
    " strftime('%Y-%m-%d %H:%M:%f', 'now'), NULL"
    " FROM user_sync WHERE user_id = OLD.user_id;"
    " END",
)
# As migration 0003 left them.
_OLD_STORE_COUNTER = (
    "INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (NEW.user_id, NEW.version, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq);"
)
OLD_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN {_OLD_STORE_COUNTER} END",
    "CREATE TRIGGER tasks_sync_update AFTER UPDATE OF version ON tasks"
    f" WHEN NEW.version <> OLD.version BEGIN {_OLD_STORE_COUNTER} END",
    "CREATE TRIGGER tasks_sync_delete AFTER DELETE ON tasks BEGIN"
    " INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (OLD.user_id, 1, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;"
    " INSERT INTO task_tombstones (user_id, seq, task_id, deleted_at)"
    " SELECT OLD.user_id, seq, OLD.id, strftime('%Y-%m-%d %H:%M:%f', 'now')"
    " FROM user_sync WHERE user_id = OLD.user_id;"
    " END",
)
_TRIGGER_NAMES = ("tasks_sync_insert", "tasks_sync_update", "tasks_sync_delete")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "events",
        sa.Column("scope_id", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("scope_id", "seq", name=op.f("pk_events")),
    )
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"], unique=False)
    op.execute(
        f"INSERT INTO events {_EVENT_COLUMNS}"
        " SELECT user_id, seq, 'task', task_id, 'deleted', user_id, deleted_at, NULL"
        " FROM task_tombstones"
    )
    if sqlite:
        _replace_triggers(SQLITE_TRIGGERS)
    op.drop_index("ix_task_tombstones_deleted_at", table_name="task_tombstones")
    op.drop_table("task_tombstones")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "task_tombstones",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "seq", name=op.f("pk_task_tombstones")),
    )
    op.create_index(
        "ix_task_tombstones_deleted_at", "task_tombstones", ["deleted_at"], unique=False
    )
    op.execute(
        "INSERT INTO task_tombstones (user_id, seq, task_id, deleted_at)"
        " SELECT scope_id, seq, entity_id, occurred_at FROM events"
        " WHERE entity_type = 'task' AND kind = 'deleted'"
    )
    if sqlite:
        _replace_triggers(OLD_SQLITE_TRIGGERS)
    op.drop_index("ix_events_occurred_at", table_name="events")
    op.drop_table("events")


def _replace_triggers(triggers: Sequence[str]) -> None:
    for name in _TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for trigger in triggers:
        op.execute(trigger)
