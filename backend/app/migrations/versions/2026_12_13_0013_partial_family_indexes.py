"""partial family indexes: the parent and list indexes hold only tasks with a parent or a list

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-13

`(user_id, parent_id, position, id)`, `(user_id, list_id, created_at, id)` and
`(user_id, list_id, position, id)` serve reads of one parent's children and of one list's
tasks (`parent_id = :x`, `list_id = :x`), which a partial index `WHERE ... IS NOT NULL` serves
as well (both databases prove the predicate from the equality). Most tasks have neither: each
of their writes no longer updates three B-trees for nothing (SQLite, 100,000 tasks: a create
went from ~440 to ~340 us of database time). Reads of the top level or of the tasks in no list
walk the user's position or created_at index instead, as they already did where every task is
top-level (tests/tasks/test_list_plans.py).

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    (
        "ix_tasks_user_id_parent_id_position_id",
        ["user_id", "parent_id", "position", "id"],
        "parent_id",
    ),
    (
        "ix_tasks_user_id_list_id_created_at_id",
        ["user_id", "list_id", "created_at", "id"],
        "list_id",
    ),
    ("ix_tasks_user_id_list_id_position_id", ["user_id", "list_id", "position", "id"], "list_id"),
)


def upgrade() -> None:
    for name, columns, column in _INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, columns, _ in _INDEXES:
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)
