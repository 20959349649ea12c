"""Schema management: migrate to head, or check that the database is at head."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import metadata

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    pass


# Made by migrations on PostgreSQL only (pg_trgm GIN indexes for `q=`), so not in the models,
# which describe both databases: left out of the comparison.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_tasks_title_key_trgm", "ix_tasks_description_key_trgm"})


def is_ours(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic's `include_name`: compare only our tables. The database may be shared, e.g. with
    Better Auth's user/session/account/verification/jwks tables, which autogenerate would
    otherwise offer to drop."""
    if type_ == "index":
        return name not in POSTGRESQL_ONLY_INDEXES
    return type_ != "table" or name in metadata.tables


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def ensure_schema_current(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at revision {current or 'none'} but this version of taskapi "
            f"needs {head}: run `taskapi migrate` (or set AUTO_MIGRATE=true)"
        )


async def prepare_schema(engine: AsyncEngine, *, migrate: bool) -> None:
    """What start-up does: bring the schema to head, or refuse to run on an old one."""
    if migrate:
        await upgrade_to_head(engine)
    else:
        await ensure_schema_current(engine)
