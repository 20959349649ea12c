"""`taskapi serve | worker | migrate | token | openapi`: run the API or the background jobs,
manage the schema, mint dev tokens."""

import argparse
import asyncio
import copy
import json
import os
import shlex
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from app.auth.tokens import mint_token
from app.config import Settings, settings_for_migrations
from app.devmode import (
    dev_secret_file,
    is_loopback,
    load_or_create_dev_secret,
    write_dev_token,
)

# Descriptors a worker opens after start-up besides client sockets and database connections:
# the listening socket, the event loop's, the LISTEN connection, a log file or two.
SPARE_FILES = 16
MIN_CONNECTIONS = 20  # fewer fit: refuse to start rather than turn most clients away
# One lifetime for every development token: the one `serve --dev` writes, and `token`'s default.
DEV_TOKEN_LIFETIME = timedelta(hours=24)
# PostgreSQL's SQLSTATE for "database does not exist".
INVALID_CATALOG_NAME = "3D000"


def load_settings(*, dev: bool = False, host: str | None = None) -> Settings:
    """The settings; in development, with the development secret unless one is configured.
    Development mode is refused on a host other machines can reach, before any secret exists."""
    if dev:
        os.environ["ENVIRONMENT"] = "development"
    try:
        settings = Settings()
        if settings.is_development and host is not None and not is_loopback(host):
            fail(
                f"development mode listens on loopback only (127.0.0.1, ::1, localhost), "
                f"not {host}: anyone who reads its secret could sign in as any user. To serve "
                f"other hosts, run without --dev with BETTER_AUTH_SECRET or AUTH_JWKS_URL"
            )
        if settings.is_development and settings.better_auth_secret is None:
            os.environ["BETTER_AUTH_SECRET"] = load_or_create_dev_secret()
            settings = Settings()
    except ValidationError as error:
        fail(f"invalid configuration: {_describe(error)}")
    except OSError as error:
        fail(f"cannot keep the development secret at {dev_secret_file()}: {error}")
    return settings


def fail(message: str) -> NoReturn:
    """Every failure a user can cause: one line on stderr, exit status 1."""
    sys.exit(f"taskapi: {message}")


def _describe(error: ValidationError) -> str:
    """`VARIABLE: what is wrong` for each field; the bare message for rules across fields."""
    parts = []
    for item in error.errors():
        variable = ".".join(map(str, item["loc"])).upper()
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{variable}: {message}" if variable else message)
    return "; ".join(parts)


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.access_log:
        os.environ["ACCESS_LOG"] = "true"  # read again by each worker's Settings
    settings = load_settings(dev=args.dev, host=args.host)
    _check_port_is_free(args.host, args.port)
    if settings.is_development:
        _print_dev_banner(settings, f"http://{args.host}:{args.port}")
    prepare_schema_once(settings)
    _fit_connections_to_open_file_limit(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        log_config=_log_config(settings),
        access_log=False,  # the app writes its own request log (app.http.request_log)
        proxy_headers=True,
        # uvicorn's httptools protocol with limits on head size, timeouts and connections.
        http="app.http.server:HardenedHttp",
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        # Streams end at once on SIGTERM; other requests get this long before the exit.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


def _check_port_is_free(host: str, port: int) -> None:
    """Before anything is printed: a busy port is one line with the way out, not a banner
    followed by uvicorn's `[Errno 98]`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        fail(f"cannot listen on --host {host}: {error.strerror}")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            fail(
                f"cannot listen on {host}:{port} ({error.strerror}): stop what uses it, or "
                f"pick another port with --port {port + 1}"
            )


def _print_dev_banner(settings: Settings, base: str) -> None:
    """Pasteable commands for the terminal, and never a token: the token goes to a private
    file that the curl line reads, so no log that captures this output holds one."""
    token_file = write_dev_token(_dev_token(settings, "alice", DEV_TOKEN_LIFETIME))
    print(
        f"\ntaskapi (development) on {base}   docs: {base}/docs\n"
        f"database: {_safe_url(settings)}\n\n"
        f"A token for user 'alice', valid 24 h, is in {token_file}\n"
        f'Try it:       curl -H "Authorization: Bearer $(cat {shlex.quote(str(token_file))})" '
        f"{base}/api/tasks\n"
        f"More tokens:  {_taskapi_command()} token --user bob\n",
        flush=True,
    )


def _taskapi_command() -> str:
    """How to run this very taskapi, though its venv is not on PATH: the script beside this
    Python, else `python -m app.cli`."""
    script = Path(os.path.abspath(sys.executable)).parent / "taskapi"
    if script.is_file() and os.access(script, os.X_OK):
        return shlex.quote(str(script))
    return f"{shlex.quote(os.path.abspath(sys.executable))} -m app.cli"


def _fit_connections_to_open_file_limit(settings: Settings) -> None:
    """Room for MAX_CONNECTIONS sockets beside what the worker already holds: the soft limit
    is often 1,024, so raise it (up to the hard limit); if that is not enough, lower the cap
    (and the stream limit with it) to the real headroom, since a full file table refuses
    connections with no answer at all, the database's included. Too little: refuse to start."""
    import resource

    from app.config import max_streams_for

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    beside = _files_open_now() + settings.db_pool_size + settings.db_max_overflow + SPARE_FILES
    wanted = settings.max_connections + beside
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new == wanted:
        return
    fitted = new - beside
    if fitted < MIN_CONNECTIONS:
        sys.exit(
            f"taskapi: open files limited to {new} (ulimit -n), {beside} of them needed beside "
            f"client connections: room for {max(fitted, 0)} connections, fewer than "
            f"{MIN_CONNECTIONS}; raise the limit or lower DB_POOL_SIZE"
        )
    os.environ["MAX_CONNECTIONS"] = str(fitted)  # what the workers read
    if settings.sse_max_streams is not None:
        streams = min(settings.sse_max_streams, max_streams_for(fitted))
        os.environ["SSE_MAX_STREAMS"] = str(streams)
    print(
        f"taskapi: open files limited to {new}: MAX_CONNECTIONS lowered from "
        f"{settings.max_connections} to {fitted} (event streams: at most "
        f"{min(settings.stream_limit, max_streams_for(fitted))})",
        file=sys.stderr,
    )


def _files_open_now() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc (macOS): assume what a worker holds after start-up on Linux
        return 32


def prepare_schema_once(settings: Settings) -> None:
    """Migrate or check before any worker starts: one clear message instead of a traceback
    per worker, and workers never race each other to migrate."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.db.database import create_engine
    from app.db.migrate import SchemaOutOfDate, prepare_schema

    _check_sqlite_folder(settings)

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await prepare_schema(engine, migrate=settings.migrate_on_start)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except SchemaOutOfDate as error:
        fail(str(error))
    except (OSError, SQLAlchemyError) as error:
        fail(_database_failure(settings, error))
    os.environ["AUTO_MIGRATE"] = "false"  # done once here; the workers only check


def _check_sqlite_folder(settings: Settings) -> None:
    """A SQLite file in a folder that does not exist: said before connecting (aiosqlite's
    thread can outlive the failed connect and print a traceback after the message)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():
            fail(
                f"cannot open the SQLite database {url.database}: create its folder "
                f"(`mkdir -p {shlex.quote(str(folder))}`) or change DATABASE_URL"
            )


def _database_failure(settings: Settings, error: Exception) -> str:
    """What went wrong reaching the database, in one line that says what to do."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if getattr(getattr(error, "orig", None), "pgcode", None) == INVALID_CATALOG_NAME:
        options = [f"-h {url.host or 'localhost'}", f"-p {url.port or 5432}"]
        options += [f"-U {shlex.quote(url.username)}"] if url.username else []
        return (
            f'database "{url.database}" does not exist on {url.host or "localhost"}: create '
            f"it with `createdb {' '.join(options)} {shlex.quote(url.database or '')}`"
        )
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    if url.get_backend_name() == "sqlite" and "unable to open database file" in reason:
        folder = Path(url.database or ".").parent
        return (
            f"cannot open the SQLite database {url.database}: create its folder "
            f"(`mkdir -p {shlex.quote(str(folder))}`) or change DATABASE_URL"
        )
    return f"cannot reach the database at {_safe_url(settings)}: {reason}"


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def _log_config(settings: Settings) -> dict[str, Any]:
    """Uvicorn's logging, plus our own loggers (requests, auth failures, errors) on the same
    handler, every line as one JSON object."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"] = {"()": "app.http.request_log.JsonFormatter"}
    config["loggers"]["taskapi"] = {"handlers": ["default"], "level": settings.log_level}
    # The job queue's own warnings, as JSON lines too (else Python prints them bare).
    config["loggers"]["procrastinate"] = {"handlers": ["default"], "level": "WARNING"}
    return config


def worker(args: argparse.Namespace) -> None:
    """Runs the background jobs alone (set JOBS_IN_PROCESS=false for `serve` then)."""
    import logging

    from app.http.request_log import JsonFormatter
    from app.jobs import run_worker

    settings = load_settings(dev=args.dev)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])  # others' warnings too
    logging.getLogger("taskapi").setLevel(settings.log_level)
    prepare_schema_once(settings)
    asyncio.run(run_worker(settings))


def migrate(args: argparse.Namespace) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from app.db.database import create_engine
    from app.db.migrate import current_revision, upgrade_to_head

    try:
        settings = settings_for_migrations()
    except ValidationError as error:
        fail(f"invalid configuration: {_describe(error)}")

    _check_sqlite_folder(settings)

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_to_head(engine)
            print(f"database at revision {await current_revision(engine)}")
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (OSError, SQLAlchemyError) as error:
        fail(_database_failure(settings, error))


def token(args: argparse.Namespace) -> None:
    # The configured secret if there is one, else the development one; said on stderr, so a
    # token the server refuses is explained, and `$(taskapi token ...)` gets the token alone.
    settings = load_settings(dev=True)
    expires_in = timedelta(seconds=args.expires_in)
    if args.mcp:
        print(_mcp_token(settings, args.user, expires_in))
    else:
        print(_dev_token(settings, args.user, expires_in))
    print(f"taskapi: signed with {_secret_source(settings)}", file=sys.stderr)


def _secret_source(settings: Settings) -> str:
    assert settings.better_auth_secret is not None
    dev_file = dev_secret_file()
    if dev_file.is_file() and dev_file.read_text().strip() == (
        settings.better_auth_secret.get_secret_value()
    ):
        return f"the development secret in {dev_file}"
    return "BETTER_AUTH_SECRET"


def _dev_token(settings: Settings, user: str, expires_in: timedelta) -> str:
    assert settings.better_auth_secret is not None
    return mint_token(
        settings.better_auth_secret.get_secret_value(),
        user,
        algorithm=settings.jwt_algorithm,
        expires_in=expires_in,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
    )


def _mcp_token(settings: Settings, user: str, expires_in: timedelta) -> str:
    """A token for /mcp: its audience is MCP_RESOURCE_URL, and it holds the MCP scopes."""
    assert settings.better_auth_secret is not None
    if settings.mcp_resource_url is None:
        fail("--mcp needs MCP_RESOURCE_URL (e.g. http://127.0.0.1:8000/mcp)")
    scopes = [scope for scope in (settings.mcp_read_scope, settings.mcp_write_scope) if scope]
    return mint_token(
        settings.better_auth_secret.get_secret_value(),
        user,
        algorithm=settings.jwt_algorithm,
        expires_in=expires_in,
        issuer=settings.mcp_issuer,
        audience=settings.mcp_resource_url,
        extra_claims={"scope": " ".join(scopes)} if scopes else None,
    )


def openapi(args: argparse.Namespace) -> None:
    from app.main import create_app

    app = create_app(
        Settings(environment="development", better_auth_secret="x" * 32, auth_jwks_url=None)
    )
    print(json.dumps(app.openapi(), indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="taskapi", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    defaults = argparse.ArgumentDefaultsHelpFormatter
    run = commands.add_parser("serve", help="run the API", formatter_class=defaults)
    run.add_argument(
        "--dev",
        action="store_true",
        help="development, on loopback only: generated secret, migrations on start, a token "
        "written to a private file",
    )
    run.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    run.add_argument("--port", type=int, default=8000, help="the port to listen on")
    run.add_argument("--workers", type=int, default=1, help="server processes")
    run.add_argument(
        "--access-log",
        action="store_true",
        help="log one JSON line per request (or ACCESS_LOG=true); off by default: it is not free",
    )
    run.set_defaults(handler=serve)

    work = commands.add_parser("worker", help="run the background jobs (without the API)")
    work.add_argument("--dev", action="store_true", help="development settings, as for serve")
    work.set_defaults(handler=worker)

    mig = commands.add_parser("migrate", help="bring the database schema to the latest revision")
    mig.set_defaults(handler=migrate)

    tok = commands.add_parser(
        "token", help="mint a signed token (development and testing)", formatter_class=defaults
    )
    tok.add_argument("--user", required=True, help="the user id to put in the token")
    tok.add_argument(
        "--expires-in",
        type=int,
        default=int(DEV_TOKEN_LIFETIME.total_seconds()),
        help="lifetime in seconds",
    )
    tok.add_argument(
        "--mcp",
        action="store_true",
        help="for /mcp: audience MCP_RESOURCE_URL, issuer MCP_AUTH_ISSUER, the MCP scopes",
    )
    tok.set_defaults(handler=token)

    spec = commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    spec.set_defaults(handler=openapi)

    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
