"""The URLs people paste into DATABASE_URL (Neon's dashboard, Heroku-style, SQLAlchemy-style)
become an async-driver URL plus the connect arguments asyncpg needs. No database is contacted."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from app.db.database import DatabaseTarget, create_engine, resolve_database_url
from tests.support.helpers import make_settings

NEON_POOLED = (
    "postgresql://user:pw@ep-cool-name-123456-pooler.us-east-2.aws.neon.tech/neondb"
    "?sslmode=require&channel_binding=require"
)
NEON_DIRECT = NEON_POOLED.replace("-pooler", "")
PGBOUNCER_SETTINGS = ("statement_cache_size", "prepared_statement_name_func")


def assert_pgbouncer_mode(target: DatabaseTarget, *, on: bool) -> None:
    assert target.behind_pgbouncer is on
    assert all((key in target.connect_args) is on for key in PGBOUNCER_SETTINGS)
    assert ("prepared_statement_cache_size" in target.url.query) is on


def test_neon_url_uses_asyncpg_with_ssl_required() -> None:
    target = resolve_database_url(NEON_POOLED)

    assert target.url.drivername == "postgresql+asyncpg"
    assert target.connect_args["ssl"] == "require"
    assert (target.url.host, target.url.database) == (
        "ep-cool-name-123456-pooler.us-east-2.aws.neon.tech",
        "neondb",
    )
    assert (target.url.username, target.url.password) == ("user", "pw")


def test_neon_url_loses_the_libpq_only_options() -> None:
    query = resolve_database_url(NEON_POOLED).url.query

    assert "sslmode" not in query
    assert "channel_binding" not in query


def test_neon_pooler_host_turns_on_pgbouncer_mode() -> None:
    target = resolve_database_url(NEON_POOLED)

    assert_pgbouncer_mode(target, on=True)
    assert target.connect_args["statement_cache_size"] == 0
    assert target.url.query["prepared_statement_cache_size"] == "0"


def test_pgbouncer_mode_names_every_prepared_statement_uniquely() -> None:
    name_statement = resolve_database_url(NEON_POOLED).connect_args["prepared_statement_name_func"]

    names = [name_statement() for _ in range(1000)]

    assert len(set(names)) == 1000
    assert all(isinstance(name, str) and name.startswith("__asyncpg_") for name in names)


def test_neon_direct_host_leaves_pgbouncer_mode_off() -> None:
    target = resolve_database_url(NEON_DIRECT)

    assert_pgbouncer_mode(target, on=False)
    assert target.connect_args == {"ssl": "require"}
    assert dict(target.url.query) == {}


@pytest.mark.parametrize(
    ("raw_url", "pooler", "expected"),
    [
        (NEON_DIRECT, "pgbouncer", True),
        ("postgresql://postgres@127.0.0.1:6432/app", "pgbouncer", True),
        (NEON_POOLED, "none", False),
        (NEON_POOLED, "auto", True),
        (NEON_DIRECT, "auto", False),
    ],
)
def test_db_pooler_setting_overrides_host_detection(
    raw_url: str, pooler: str, expected: bool
) -> None:
    assert_pgbouncer_mode(resolve_database_url(raw_url, pooler), on=expected)


@pytest.mark.parametrize(
    "scheme", ["postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2"]
)
def test_every_postgres_scheme_becomes_asyncpg(scheme: str) -> None:
    target = resolve_database_url(f"{scheme}://app:secret@db.example.com:5433/tasks")

    assert target.url.render_as_string(hide_password=False) == (
        "postgresql+asyncpg://app:secret@db.example.com:5433/tasks"
    )
    assert target.connect_args == {}
    assert not target.is_sqlite


@pytest.mark.parametrize(
    ("query", "ssl"),
    [
        ("sslmode=disable", "disable"),
        ("sslmode=require", "require"),
        ("sslmode=verify-full", "verify-full"),
        ("ssl=require", "require"),  # asyncpg's own spelling
    ],
)
def test_ssl_mode_is_passed_to_asyncpg(query: str, ssl: str) -> None:
    target = resolve_database_url(f"postgresql://app@db.example.com/tasks?{query}")

    assert target.connect_args == {"ssl": ssl}
    assert dict(target.url.query) == {}


def test_no_ssl_mode_means_no_ssl_argument() -> None:
    assert "ssl" not in resolve_database_url("postgresql://app@db.example.com/tasks").connect_args


def test_connect_timeout_becomes_asyncpg_timeout() -> None:
    target = resolve_database_url("postgresql://app@db.example.com/tasks?connect_timeout=7")

    assert target.connect_args == {"timeout": 7.0}
    assert "connect_timeout" not in target.url.query


def test_other_query_options_are_kept() -> None:
    target = resolve_database_url(
        "postgresql://app@db.example.com/tasks?sslmode=require&application_name=taskapi"
    )

    assert dict(target.url.query) == {"application_name": "taskapi"}


def test_surrounding_whitespace_of_a_pasted_url_is_ignored() -> None:
    target = resolve_database_url(f"  {NEON_POOLED}\n")

    assert target.url.host == "ep-cool-name-123456-pooler.us-east-2.aws.neon.tech"


@pytest.mark.parametrize("password", ["p@ss", "p:ss", "p/ss", "p%ss", "a@b:c/d%e?f#g"])
def test_password_with_special_characters_survives(password: str) -> None:
    raw_url = f"postgresql://app:{quote(password, safe='')}@db.example.com/tasks?sslmode=require"

    url = resolve_database_url(raw_url).url

    assert url.password == password
    assert (url.host, url.database) == ("db.example.com", "tasks")
    # The URL the engine is built from parses back to the same password.
    assert make_url(url.render_as_string(hide_password=False)).password == password


@pytest.mark.parametrize(
    ("raw_url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite:////var/lib/taskapi/x.db", "sqlite+aiosqlite:////var/lib/taskapi/x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ],
)
def test_sqlite_urls_use_aiosqlite(raw_url: str, expected: str) -> None:
    target = resolve_database_url(raw_url)

    assert target.url.render_as_string() == expected
    assert target.is_sqlite
    assert not target.behind_pgbouncer


@pytest.mark.parametrize(
    "raw_url", ["mysql://app@db.example.com/tasks", "mysql+aiomysql://app@db/tasks", "mssql://x"]
)
def test_other_databases_are_refused(raw_url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database .*: use sqlite or postgresql"):
        resolve_database_url(raw_url)


@pytest.fixture
async def neon_engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url=NEON_POOLED))
    yield engine
    await engine.dispose()


def test_engine_for_neon_has_the_pool_settings(neon_engine: AsyncEngine) -> None:
    pool = neon_engine.pool

    assert isinstance(pool, AsyncAdaptedQueuePool)
    assert pool.size() == 10
    assert pool._max_overflow == 0
    assert pool.timeout() == 5
    assert pool._recycle == 300
    # Pinged only after sitting idle (app.database._ping_when_idle), not before every use.
    assert pool._pre_ping is False


class _ConnectIntercepted(Exception):
    """Raised instead of dialling the database, carrying what asyncpg would have been given."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__("connect intercepted")
        self.params = params


async def test_engine_for_neon_gives_asyncpg_the_pgbouncer_and_ssl_arguments(
    neon_engine: AsyncEngine,
) -> None:
    @event.listens_for(neon_engine.sync_engine, "do_connect")
    def intercept(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        raise _ConnectIntercepted(dict(cparams))

    with pytest.raises(_ConnectIntercepted) as intercepted:
        await asyncio.wait_for(neon_engine.connect(), timeout=10)

    params = intercepted.value.params
    assert params["host"] == "ep-cool-name-123456-pooler.us-east-2.aws.neon.tech"
    assert (params["database"], params["user"], params["password"]) == ("neondb", "user", "pw")
    assert params["ssl"] == "require"
    assert params["statement_cache_size"] == 0
    assert params["prepared_statement_cache_size"] == 0
    assert callable(params["prepared_statement_name_func"])
    assert not {"sslmode", "channel_binding"} & params.keys()
