"""sync: task versions, per-user change counters, tombstones, idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index("ix_tasks_user_id_version", "tasks", ["user_id", "version"], unique=False)
    op.create_table(
        "user_sync",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("purged_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_sync")),
    )
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
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )
    # Existing tasks get distinct versions per user, and each user a counter past them, as if
    # they had been written one by one: delta sync pages by version.
    op.execute(
        "UPDATE tasks SET version = numbered.n FROM ("
        " SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS n"
        " FROM tasks) AS numbered WHERE tasks.id = numbered.id"
    )
    op.execute(
        "INSERT INTO user_sync (user_id, seq, purged_seq)"
        " SELECT user_id, max(version), 0 FROM tasks GROUP BY user_id"
    )
    if op.get_bind().dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


# SQLite has no data-modifying CTEs, so a write there takes "counter + 1" as the version and
# these triggers store the counter and the tombstone, in the same statement (app.sync.repository).
# `max`: a row written without the API (version 0) never moves a counter back.
_STORE_COUNTER = (
    "INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (NEW.user_id, NEW.version, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq);"
)
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN {_STORE_COUNTER} END",
    "CREATE TRIGGER tasks_sync_update AFTER UPDATE OF version ON tasks"
    f" WHEN NEW.version <> OLD.version BEGIN {_STORE_COUNTER} END",
    "CREATE TRIGGER tasks_sync_delete AFTER DELETE ON tasks BEGIN"
    " INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (OLD.user_id, 1, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;"
    " INSERT INTO task_tombstones (user_id, seq, task_id, deleted_at)"
    " SELECT OLD.user_id, seq, OLD.id, strftime('%Y-%m-%d %H:%M:%f', 'now')"
    " FROM user_sync WHERE user_id = OLD.user_id;"
    " END",
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("tasks_sync_insert", "tasks_sync_update", "tasks_sync_delete"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_task_tombstones_deleted_at", table_name="task_tombstones")
    op.drop_table("task_tombstones")
    op.drop_table("user_sync")
    op.drop_index("ix_tasks_user_id_version", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("version")
