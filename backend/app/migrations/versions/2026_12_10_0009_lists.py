"""lists: the `lists` table, `tasks.list_id`, and each list's task counts kept by triggers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10

Existing tasks are in no list (`list_id` NULL): nothing about them changes. A list's
`task_count` and `open_task_count` are kept by row triggers on `tasks` whose WHEN clause is
false for a task in no list, so writes of such tasks pay nothing for them. The SQLite sync
triggers are written again so an event's state carries `list_id` (PostgreSQL builds the state
in the write's own statement: app.db.sequenced).

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ADD = (
    "UPDATE lists SET task_count = task_count + 1,"
    " open_task_count = open_task_count + {open} WHERE id = NEW.list_id;"
)
_REMOVE = (
    "UPDATE lists SET task_count = task_count - 1,"
    " open_task_count = open_task_count - {open} WHERE id = OLD.list_id;"
)
_MOVED = (
    "OLD.list_id IS DISTINCT FROM NEW.list_id"
    " OR (NEW.list_id IS NOT NULL AND OLD.is_completed IS DISTINCT FROM NEW.is_completed)"
)
POSTGRESQL_COUNTING = (
    """CREATE FUNCTION lists_count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            IF OLD.list_id IS NOT NULL THEN
                """
    + _REMOVE.format(open="CASE WHEN OLD.is_completed THEN 0 ELSE 1 END")
    + """
            END IF;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            IF NEW.list_id IS NOT NULL THEN
                """
    + _ADD.format(open="CASE WHEN NEW.is_completed THEN 0 ELSE 1 END")
    + """
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER tasks_list_count_insert AFTER INSERT ON tasks FOR EACH ROW"
    " WHEN (NEW.list_id IS NOT NULL) EXECUTE FUNCTION lists_count_tasks()",
    "CREATE TRIGGER tasks_list_count_update AFTER UPDATE OF list_id, is_completed ON tasks"
    f" FOR EACH ROW WHEN ({_MOVED}) EXECUTE FUNCTION lists_count_tasks()",
    "CREATE TRIGGER tasks_list_count_delete AFTER DELETE ON tasks FOR EACH ROW"
    " WHEN (OLD.list_id IS NOT NULL) EXECUTE FUNCTION lists_count_tasks()",
)
_SQLITE_OPEN = "CASE WHEN {row}.is_completed THEN 0 ELSE 1 END"
SQLITE_COUNTING = (
    "CREATE TRIGGER tasks_list_count_insert AFTER INSERT ON tasks"
    " WHEN NEW.list_id IS NOT NULL BEGIN "
    + _ADD.format(open=_SQLITE_OPEN.format(row="NEW"))
    + " END",
    "CREATE TRIGGER tasks_list_count_update AFTER UPDATE OF list_id, is_completed ON tasks"
    f" WHEN {_MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    + _REMOVE.format(open=_SQLITE_OPEN.format(row="OLD"))
    + " "
    + _ADD.format(open=_SQLITE_OPEN.format(row="NEW"))
    + " END",
    "CREATE TRIGGER tasks_list_count_delete AFTER DELETE ON tasks"
    " WHEN OLD.list_id IS NOT NULL BEGIN "
    + _REMOVE.format(open=_SQLITE_OPEN.format(row="OLD"))
    + " END",
)
_COUNTING_TRIGGERS = (
    "tasks_list_count_insert",
    "tasks_list_count_update",
    "tasks_list_count_delete",
)


def _state(with_list: bool) -> str:
    """The stored columns an event's state holds (app.db.sequenced.TASK_STATE)."""
    return (
        "json_object('id', NEW.id, 'title', NEW.title, 'description', NEW.description,"
        " 'is_completed', json(CASE WHEN NEW.is_completed THEN 'true' ELSE 'false' END),"
        " 'created_at', NEW.created_at, 'updated_at', NEW.updated_at,"
        " 'completed_at', NEW.completed_at, 'due_date', NEW.due_date, 'due_at', NEW.due_at,"
        " 'priority', NEW.priority, 'tags', json(NEW.tags),"
        " 'parent_id', NEW.parent_id, 'position', NEW.position,"
        " 'subtask_count', NEW.subtask_count, 'open_subtask_count', NEW.open_subtask_count,"
        " 'version', NEW.version" + (", 'list_id', NEW.list_id)" if with_list else ")")
    )


_STORE_COUNTER = (
    "INSERT INTO user_sync (user_id, seq, purged_seq) VALUES (NEW.user_id, NEW.version, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET seq = max(seq, excluded.seq);"
)
_EVENT_COLUMNS = "(scope_id, seq, entity_type, entity_id, kind, actor, occurred_at, state)"


def sqlite_sync_triggers(with_list: bool) -> tuple[str, str]:
    """Migration 0008's insert and update triggers, with or without `list_id` in the state.
    (The delete trigger writes no state, so it stays.)"""
    state = _state(with_list)
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


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    position = sa.String(length=255).with_variant(
        sa.String(length=255, collation="C"), "postgresql"
    )
    op.create_table(
        "lists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("position", position, nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("task_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("open_task_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("length(name) >= 1", name=op.f("ck_lists_name_not_empty")),
        sa.CheckConstraint(
            "task_count >= 0 AND open_task_count >= 0",
            name=op.f("ck_lists_counts_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
    )
    op.create_index("ix_lists_user_id_position", "lists", ["user_id", "position"], unique=True)
    op.create_index("ix_lists_user_id_version", "lists", ["user_id", "version"], unique=False)
    if postgres:
        op.add_column("tasks", sa.Column("list_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(op.f("fk_tasks_list_id_lists"), "tasks", "lists", ["list_id"], ["id"])
    else:
        # Plain ALTER TABLE (a batch copy of `tasks` would trip over its triggers and, with
        # foreign keys on, cascade to its tags).
        op.execute("ALTER TABLE tasks ADD COLUMN list_id CHAR(32) REFERENCES lists (id)")
    op.create_index(
        "ix_tasks_user_id_list_id_created_at_id",
        "tasks",
        ["user_id", "list_id", "created_at", "id"],
        unique=False,
    )
    for statement in POSTGRESQL_COUNTING if postgres else SQLITE_COUNTING:
        op.execute(statement)
    if not postgres:
        _replace_sync_triggers(with_list=True)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger in _COUNTING_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON tasks" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS lists_count_tasks()")
    else:
        _replace_sync_triggers(with_list=False)
    op.drop_index("ix_tasks_user_id_list_id_created_at_id", table_name="tasks")
    if postgres:
        op.drop_constraint(op.f("fk_tasks_list_id_lists"), "tasks", type_="foreignkey")
    # Tasks lose their list, nothing else: the lists go with their table.
    op.execute("ALTER TABLE tasks DROP COLUMN list_id")
    op.drop_index("ix_lists_user_id_version", table_name="lists")
    op.drop_index("ix_lists_user_id_position", table_name="lists")
    op.drop_table("lists")


def _replace_sync_triggers(*, with_list: bool) -> None:
    for name in ("tasks_sync_insert", "tasks_sync_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for trigger in sqlite_sync_triggers(with_list):
        op.execute(trigger)
