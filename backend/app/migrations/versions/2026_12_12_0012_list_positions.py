"""list positions: an index for one list's tasks in position order

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12

`?list=<id>&sort=position` (and `?list=none`), and the siblings at the top level of a list
that a move reads (app.tasks.tree_repository), read `(user_id, list_id, position, id)` as a
range: without it PostgreSQL walks the user's whole position order filtering by list, and a
small list of a user with many tasks pays for all of them. No data changes.

Self-contained on purpose: a migration must not change when the app's code does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_tasks_user_id_list_id_position_id"


def upgrade() -> None:
    op.create_index(_NAME, "tasks", ["user_id", "list_id", "position", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(_NAME, table_name="tasks")
