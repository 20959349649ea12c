"""jobs: procrastinate's tables and functions (PostgreSQL only; SQLite runs jobs in memory)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

The schema is procrastinate 3.10.0's own `schema.sql`, vendored beside the migrations so this
revision never changes when the library is upgraded: a later procrastinate that changes its
schema comes with its migration files, applied in a new revision.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).parent.parent / "sql" / "procrastinate_3.10.0_schema.sql"


def _run_script(sql: str) -> None:
    # A script of many statements (and $$-quoted bodies) cannot be a prepared statement, which
    # is how SQLAlchemy sends everything through asyncpg: asyncpg's own execute runs it whole,
    # in this migration's transaction.
    driver_connection = op.get_bind().connection.driver_connection
    await_only(driver_connection.execute(sql))  # type: ignore[union-attr]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(SCHEMA.read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(
            """
            DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
                procrastinate_workers CASCADE;
            DO $$
            DECLARE routine regprocedure;
            BEGIN
                FOR routine IN
                    SELECT oid::regprocedure FROM pg_proc
                    WHERE proname LIKE 'procrastinate\\_%'
                      AND pronamespace = current_schema()::regnamespace
                LOOP
                    EXECUTE 'DROP ROUTINE ' || routine;
                END LOOP;
            END;
            $$;
            DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type,
                procrastinate_job_status;
            """
        )
