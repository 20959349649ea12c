"""search and task counts: pg_trgm indexes for `q=`, and each user's task count

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

`q=` is `title_key LIKE '%...%' OR description_key LIKE '%...%'`: without an index a search
reads every task of the user. PostgreSQL gets GIN pg_trgm indexes (pg_trgm is a trusted
extension since PostgreSQL 13: the database owner may create it); SQLite has no such index.
`fastupdate = off`: each write updates the index at once, instead of a pending list that only
VACUUM merges and that makes the planner shun the index meanwhile.

`user_sync.task_count` is what the per-user quota reads (app.repository.quota): kept by
triggers on `tasks`, so every insert and delete counts, whoever writes it.

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Also named in app.db.migrate.POSTGRESQL_ONLY_INDEXES (not in the models: SQLite has none).
TRIGRAM_INDEXES = {
    "ix_tasks_title_key_trgm": "title_key",
    "ix_tasks_description_key_trgm": "description_key",
}

# PostgreSQL: per statement, from its transition table (a bulk insert is one upsert per user).
POSTGRESQL_COUNTING = (
    """CREATE FUNCTION tasks_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO user_sync (user_id, seq, purged_seq, task_count)
        SELECT user_id, 0, 0, count(*) FROM inserted_tasks GROUP BY user_id
        ON CONFLICT (user_id) DO UPDATE
        SET task_count = user_sync.task_count + excluded.task_count;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION tasks_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE user_sync SET task_count = user_sync.task_count - gone.n
        FROM (SELECT user_id, count(*) AS n FROM deleted_tasks GROUP BY user_id) AS gone
        WHERE user_sync.user_id = gone.user_id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks"
    " REFERENCING NEW TABLE AS inserted_tasks FOR EACH STATEMENT"
    " EXECUTE FUNCTION tasks_count_inserted()",
    "CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks"
    " REFERENCING OLD TABLE AS deleted_tasks FOR EACH STATEMENT"
    " EXECUTE FUNCTION tasks_count_deleted()",
)
SQLITE_COUNTING = (
    "CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN"
    " INSERT INTO user_sync (user_id, seq, purged_seq, task_count) VALUES (NEW.user_id, 0, 0, 1)"
    " ON CONFLICT (user_id) DO UPDATE SET task_count = task_count + 1;"
    " END",
    "CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN"
    " UPDATE user_sync SET task_count = task_count - 1 WHERE user_id = OLD.user_id;"
    " END",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # Plain ALTER TABLE on both (SQLite 3.35+): a batch copy of the table would trip over the
    # sync triggers that name it.
    op.add_column(
        "user_sync", sa.Column("task_count", sa.BigInteger(), server_default="0", nullable=False)
    )
    # Every user with tasks has a counter row since 0003; writes without the API may not.
    op.execute(
        "INSERT INTO user_sync (user_id, seq, purged_seq)"
        " SELECT DISTINCT user_id, 0, 0 FROM tasks"
        " WHERE user_id NOT IN (SELECT user_id FROM user_sync)"
    )
    op.execute(
        "UPDATE user_sync SET task_count ="
        " (SELECT count(*) FROM tasks WHERE tasks.user_id = user_sync.user_id)"
    )
    for statement in POSTGRESQL_COUNTING if postgres else SQLITE_COUNTING:
        op.execute(statement)
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRIGRAM_INDEXES.items():
            op.execute(
                f"CREATE INDEX {name} ON tasks USING gin ({column} gin_trgm_ops)"
                " WITH (fastupdate = off)"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        # The extension stays: another schema or app in the database may use it.
    for trigger in ("tasks_count_insert", "tasks_count_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON tasks" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS tasks_count_inserted()")
        op.execute("DROP FUNCTION IF EXISTS tasks_count_deleted()")
    op.execute("ALTER TABLE user_sync DROP COLUMN task_count")
