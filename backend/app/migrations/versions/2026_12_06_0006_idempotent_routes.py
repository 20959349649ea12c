"""idempotent routes: a stored response keeps its route and headers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08

Keys stored before this revision were all made by `POST /api/tasks`, whose response headers
were its `ETag` (the body's `etag`) and `Location` (relative): both are filled in here, so a
retry across the upgrade is replayed as before. (`PUBLIC_BASE_URL` is not known here: such a
retry gets the relative `Location`.)
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = sa.table(
    "idempotency_keys",
    sa.column("user_id", sa.String()),
    sa.column("key", sa.String()),
    sa.column("headers", sa.LargeBinary()),
    sa.column("body", sa.LargeBinary()),
)


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(
            sa.Column(
                "route", sa.String(length=255), server_default="POST /api/tasks", nullable=False
            )
        )
        batch.add_column(sa.Column("headers", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("route", server_default=None)
    connection = op.get_bind()
    stored = sa.select(_KEYS.c.user_id, _KEYS.c.key, _KEYS.c.body).where(_KEYS.c.body.is_not(None))
    for user_id, key, body in connection.execute(stored).all():
        task = json.loads(body)
        headers = [
            ["etag", task["etag"]],
            ["location", f"/api/tasks/{task['id']}"],
            ["content-length", str(len(body))],
            ["content-type", "application/json"],
        ]
        connection.execute(
            sa.update(_KEYS)
            .where((_KEYS.c.user_id == user_id) & (_KEYS.c.key == key))
            .values(headers=json.dumps(headers).encode())
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("headers")
        batch.drop_column("route")
