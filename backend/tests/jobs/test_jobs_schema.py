"""Procrastinate's schema comes with our migrations, on PostgreSQL only, and goes with them;
the job worker reaches the app's database whatever form DATABASE_URL takes."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.database import create_engine, resolve_database_url
from app.db.migrate import upgrade_to_head
from app.jobs.postgres import APPLICATION_NAME, jobs_database, psycopg_conninfo
from tests.conftest import new_postgres_database
from tests.support.helpers import make_settings
from tests.support.migrations import downgrade_to

PROCRASTINATE_OBJECTS = """
    SELECT 'table ' || tablename FROM pg_tables
     WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
    UNION ALL SELECT 'routine ' || proname FROM pg_proc
     WHERE pronamespace = current_schema()::regnamespace AND proname LIKE 'procrastinate%'
    UNION ALL SELECT 'type ' || typname FROM pg_type
     WHERE typnamespace = current_schema()::regnamespace AND typname LIKE 'procrastinate%'
"""


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    with new_postgres_database(postgres_url, "taskapi_jobs") as url:
        yield url


@pytest.fixture
async def engine(fresh_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url=fresh_postgres_url))
    yield engine
    await engine.dispose()


async def procrastinate_objects(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(text(PROCRASTINATE_OBJECTS))).scalars())


async def test_postgres_gets_the_queue_and_loses_it_on_downgrade(engine: AsyncEngine) -> None:
    await upgrade_to_head(engine)
    created = await procrastinate_objects(engine)

    await downgrade_to(engine, "0004")  # the revision before the jobs one (0005)
    left = await procrastinate_objects(engine)
    await upgrade_to_head(engine)

    assert {
        "table procrastinate_jobs",
        "table procrastinate_workers",
        "routine procrastinate_fetch_job_v2",
        "type procrastinate_job_status",
    } <= created
    assert left == set()
    assert await procrastinate_objects(engine) == created


async def test_sqlite_gets_no_queue_tables(tmp_path: Path) -> None:
    engine = create_engine(make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db"))
    try:
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            names = (await connection.execute(text("SELECT name FROM sqlite_master"))).scalars()
            assert [name for name in names if "procrastinate" in name] == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://user:p%40ss@db.example.com:6543/tasks?sslmode=require&connect_timeout=7",
        "postgresql+asyncpg://user:p%40ss@db.example.com:6543/tasks?ssl=require&connect_timeout=7",
    ],
)
def test_the_worker_connects_to_the_apps_database(database_url: str) -> None:
    conninfo = conninfo_to_dict(psycopg_conninfo(resolve_database_url(database_url)))

    assert conninfo == {
        "host": "db.example.com",
        "port": "6543",
        "user": "user",
        "password": "p@ss",
        "dbname": "tasks",
        "sslmode": "require",
        "connect_timeout": "7",
        "application_name": APPLICATION_NAME,
    }


def test_the_worker_uses_the_direct_host_when_one_is_named() -> None:
    settings = make_settings(
        database_url="postgresql://u@ep-x-pooler.neon.tech/db",
        database_listen_url="postgresql://u@ep-x.neon.tech/db",
    )

    target = jobs_database(settings)

    assert (target.url.host, target.behind_pgbouncer) == ("ep-x.neon.tech", False)
