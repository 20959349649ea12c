"""organise and find: due, priority, tags, completed_at, sort keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Existing tasks keep every value they had; they get no due date, priority `none`, no tags and
`completed_at` null (when a task was completed before this revision is not known). Their
casefolded text keys are computed here, in Python, as the app computes them on every write.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of what the app derived when this revision was written (app.kit.keys then): a
# migration never imports application code, so a later change there cannot change it.
NO_DUE = 2**62


def fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


_SORT_INDEXES = {
    "ix_tasks_user_id_updated_at_id": ["user_id", "updated_at", "id"],
    "ix_tasks_user_id_due_key_id": ["user_id", "due_key", "id"],
    "ix_tasks_user_id_due_key_desc_id": ["user_id", "due_key_desc", "id"],
    "ix_tasks_user_id_priority_id": ["user_id", "priority", "id"],
    "ix_tasks_user_id_title_key_id": ["user_id", "title_key", "id"],
}
_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("tags", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("title_key", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("description_key", sa.Text(), nullable=False, server_default=""))
        for key in ("due_key", "due_key_desc"):
            batch.add_column(
                sa.Column(key, sa.BigInteger(), nullable=False, server_default=str(NO_DUE))
            )
        batch.create_check_constraint(op.f("ck_tasks_priority_rank"), "priority BETWEEN 0 AND 3")
        batch.create_check_constraint(
            op.f("ck_tasks_one_kind_of_due"), "due_date IS NULL OR due_at IS NULL"
        )
    _fill_text_keys()
    for name, columns in _SORT_INDEXES.items():
        op.create_index(name, "tasks", columns, unique=False)

    op.create_table(
        "task_tags",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_tags_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "name_key", name=op.f("pk_task_tags")),
    )
    op.create_index(
        "ix_task_tags_user_id_name_key_task_id",
        "task_tags",
        ["user_id", "name_key", "task_id"],
        unique=False,
    )


def _fill_text_keys() -> None:
    """Casefolding is Python's (`fold` above), so existing rows are keyed here, in batches."""
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Uuid()),
        sa.column("title", sa.String()),
        sa.column("description", sa.String()),
        sa.column("title_key", sa.Text()),
        sa.column("description_key", sa.Text()),
    )
    connection = op.get_bind()
    update = (
        tasks.update()
        .where(tasks.c.id == sa.bindparam("task_id"))
        .values(title_key=sa.bindparam("new_title"), description_key=sa.bindparam("new_desc"))
    )
    last = None
    while True:
        query = sa.select(tasks.c.id, tasks.c.title, tasks.c.description).order_by(tasks.c.id)
        if last is not None:
            query = query.where(tasks.c.id > last)
        rows = connection.execute(query.limit(_BATCH)).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {"task_id": id_, "new_title": fold(title), "new_desc": fold(description or "")}
                for id_, title, description in rows
            ],
        )
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_task_tags_user_id_name_key_task_id", table_name="task_tags")
    op.drop_table("task_tags")
    for name in _SORT_INDEXES:
        op.drop_index(name, table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint(op.f("ck_tasks_one_kind_of_due"), type_="check")
        batch.drop_constraint(op.f("ck_tasks_priority_rank"), type_="check")
        for column in (
            "due_key_desc",
            "due_key",
            "description_key",
            "title_key",
            "tags",
            "priority",
            "due_at",
            "due_date",
            "completed_at",
        ):
            batch.drop_column(column)
