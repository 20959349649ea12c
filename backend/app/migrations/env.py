"""Alembic environment. Uses the caller's connection when given one (the app migrating on
start, the tests), else opens its own from DATABASE_URL (the `alembic` command)."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from app.config import settings_for_migrations
from app.db.database import create_engine
from app.db.migrate import is_ours
from app.models import metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=is_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine() -> None:
    engine = create_engine(settings_for_migrations())
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


shared_connection = context.config.attributes.get("connection")
if shared_connection is not None:
    run_with(shared_connection)
else:
    asyncio.run(run_with_own_engine())
