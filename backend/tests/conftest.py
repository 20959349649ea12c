"""The app against a real database: every test that takes `client` or `app` runs twice,
once on SQLite (a fresh migrated file per test) and once on PostgreSQL (one migrated database
per run, emptied before each test).

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server, user postgres). When it is
unreachable the PostgreSQL half is skipped, unless CI=true or TASKAPI_REQUIRE_POSTGRES=1, in
which case the run fails.
"""

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import upgrade_to_head
from tests.support.better_auth_server import BetterAuthServer, better_auth_server
from tests.support.clock import CLOCK, START
from tests.support.helpers import delete_all_tasks, make_settings, running_app
from tests.support.pg_cluster import PgCluster, postgres_bin
from tests.support.tcp_proxy import TcpProxy

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = (
    os.environ.get("CI", "").lower() == "true" or os.environ.get("TASKAPI_REQUIRE_POSTGRES") == "1"
)


async def _recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        await engine.dispose()


@contextmanager
def new_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on `server_url`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_recreate_database(server_url, name))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_recreate_database(server_url, name, drop_only=True))


async def migrate_database(url: str) -> None:
    """Bring the database at `url` to the latest revision (Alembic)."""
    engine = create_async_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True)
def clock() -> None:
    """Every test starts at the same moment of the tests' clock (tests/support/clock.py)."""
    CLOCK.set(START)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own, migrated once with Alembic, dropped at the end."""
    name = f"taskapi_test_{os.getpid()}"
    try:
        asyncio.run(_recreate_database(POSTGRES_URL, name))
    except (OSError, Exception) as error:  # any failure to reach the server
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {error!r}"
        if REQUIRE_POSTGRES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(migrate_database(url))
    yield url
    asyncio.run(_recreate_database(POSTGRES_URL, name, drop_only=True))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    asyncio.run(migrate_database(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "taskapi.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


StartedApp = tuple[FastAPI, httpx.AsyncClient]
StartApp = Callable[..., AbstractAsyncContextManager[StartedApp]]


@pytest.fixture
def start_app(database_url: str) -> StartApp:
    """Starts the app on this test's database with these settings, its table emptied, and
    gives it with a client: `async with start_app(**settings) as (app, client): ...`."""

    @asynccontextmanager
    async def start(**settings: object) -> AsyncIterator[StartedApp]:
        async with running_app(make_settings(database_url=database_url, **settings)) as started:
            await delete_all_tasks(started[0])
            yield started

    return start


@pytest.fixture
async def started_app(
    start_app: StartApp, settings_overrides: dict[str, object]
) -> AsyncIterator[StartedApp]:
    async with start_app(**settings_overrides) as started:
        yield started


@pytest.fixture
def app(started_app: StartedApp) -> FastAPI:
    return started_app[0]


@pytest.fixture
def client(started_app: StartedApp) -> httpx.AsyncClient:
    return started_app[1]


@pytest.fixture(scope="module")
def better_auth_algorithm() -> str | None:
    """The plugin's default (EdDSA with Ed25519); a module overrides it to try others."""
    return None


@pytest.fixture(scope="module")
def better_auth(better_auth_algorithm: str | None) -> Iterator[BetterAuthServer]:
    """A live Better Auth server signing API tokens with `better_auth_algorithm`."""
    with better_auth_server(better_auth_algorithm) as server:
        yield server


@pytest.fixture(scope="module")
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Hypothesis caches files under ./.hypothesis by default; keep the source tree clean."""
    home = tmp_path_factory.mktemp("hypothesis")
    set_hypothesis_home_dir(home)
    yield home
    set_hypothesis_home_dir(None)


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server of the test's own, to stop and restart."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL server binaries (pg_ctl, initdb) not found", pytrace=False)
        pytest.skip("PostgreSQL server binaries (pg_ctl, initdb) not found")
    started = PgCluster(bin_dir).init()
    started.start()
    yield started
    started.remove()


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    """A TCP proxy to the test PostgreSQL server, to cut or freeze the link."""
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    proxy.thaw()  # a frozen link's handlers wait for it before they can close
    await proxy.cut()
