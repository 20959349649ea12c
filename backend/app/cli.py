"""`taskapi serve | worker | migrate | token | openapi`: run the API or the background jobs,
manage the schema, mint dev tokens."""

import argparse
import asyncio
import copy
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.config import Settings, settings_for_migrations
from app.core.tokens import mint_token

DEV_SECRET_FILE = Path(".taskapi") / "dev-secret"
# File descriptors a worker needs besides client sockets: pool, logs, imports, the listener.
FILES_BESIDE_CONNECTIONS = 256


def load_or_create_dev_secret() -> str:
    """A random secret kept in ./.taskapi/dev-secret so `serve --dev` and `token` agree."""
    if not DEV_SECRET_FILE.exists():
        DEV_SECRET_FILE.parent.mkdir(exist_ok=True)
        # Written whole to a private temp file, then linked into place: a crash never leaves
        # an empty secret, and of two racing processes the first wins and both read it.
        temp = DEV_SECRET_FILE.with_name(f"dev-secret.{os.getpid()}.tmp")
        with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temp, DEV_SECRET_FILE)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return DEV_SECRET_FILE.read_text().strip()


def load_settings(*, dev: bool = False) -> Settings:
    if dev:
        os.environ["ENVIRONMENT"] = "development"
    try:
        settings = Settings()
        if settings.is_development and settings.better_auth_secret is None:
            os.environ["BETTER_AUTH_SECRET"] = load_or_create_dev_secret()
            settings = Settings()
    except ValidationError as error:
        sys.exit(f"taskapi: invalid configuration: {_describe(error)}")
    return settings


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
    settings = load_settings(dev=args.dev)
    base = f"http://{args.host}:{args.port}"
    if settings.is_development:
        token = _dev_token(settings, "alice", timedelta(hours=24))
        print(
            f"\ntaskapi (development) on {base}   docs: {base}/docs\n"
            f"database: {_safe_url(settings)}\n\n"
            f"A token for user 'alice', valid 24 h:\n  {token}\n\n"
            f"More tokens:  taskapi token --user bob\n"
            f"Try it:       curl -H 'Authorization: Bearer {token[:16]}...' {base}/api/tasks\n",
            flush=True,
        )
    prepare_schema_once(settings)
    _fit_connections_to_open_file_limit(settings.max_connections)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        log_config=_log_config(settings),
        access_log=False,  # the app writes its own request log (app.request_log)
        proxy_headers=True,
        # uvicorn's httptools protocol with limits on head size, timeouts and connections.
        http="app.server:HardenedHttp",
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
    )


def _fit_connections_to_open_file_limit(max_connections: int) -> None:
    """Room for MAX_CONNECTIONS sockets plus the database's: the soft limit is often 1,024, so
    raise it (up to the hard limit); if that is not enough, lower the cap to fit, since a
    full file table refuses connections with no answer at all, the database's included."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + FILES_BESIDE_CONNECTIONS
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < wanted:
        fitted = max(1, new - FILES_BESIDE_CONNECTIONS)
        os.environ["MAX_CONNECTIONS"] = str(fitted)  # what the workers read
        print(
            f"taskapi: open files limited to {new}: MAX_CONNECTIONS lowered from "
            f"{max_connections} to {fitted}",
            file=sys.stderr,
        )


def prepare_schema_once(settings: Settings) -> None:
    """Migrate or check before any worker starts: one clear message instead of a traceback
    per worker, and workers never race each other to migrate."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.database import create_engine
    from app.migrate import SchemaOutOfDate, prepare_schema

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await prepare_schema(engine, migrate=settings.migrate_on_start)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except SchemaOutOfDate as error:
        sys.exit(f"taskapi: {error}")
    except (OSError, SQLAlchemyError) as error:
        sys.exit(f"taskapi: cannot reach the database at {_safe_url(settings)}: {error}")
    os.environ["AUTO_MIGRATE"] = "false"  # done once here; the workers only check


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def _log_config(settings: Settings) -> dict[str, Any]:
    """Uvicorn's logging, plus our own loggers (requests, auth failures, errors) on the same
    handler, every line as one JSON object."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"] = {"()": "app.request_log.JsonFormatter"}
    config["loggers"]["taskapi"] = {"handlers": ["default"], "level": settings.log_level}
    return config


def worker(args: argparse.Namespace) -> None:
    """Runs the background jobs alone (set JOBS_IN_PROCESS=false for `serve` then)."""
    import logging

    from app.jobs import run_worker
    from app.request_log import JsonFormatter

    settings = load_settings(dev=args.dev)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])  # others' warnings too
    logging.getLogger("taskapi").setLevel(settings.log_level)
    prepare_schema_once(settings)
    asyncio.run(run_worker(settings))


def migrate(args: argparse.Namespace) -> None:
    from app.database import create_engine
    from app.migrate import current_revision, upgrade_to_head

    settings = settings_for_migrations()

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_to_head(engine)
            print(f"database at revision {await current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(run())


def token(args: argparse.Namespace) -> None:
    # The configured secret if there is one, else the development one.
    settings = load_settings(dev=True)
    print(_dev_token(settings, args.user, timedelta(seconds=args.expires_in)))


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


def openapi(args: argparse.Namespace) -> None:
    from app.main import create_app

    app = create_app(Settings(environment="development", better_auth_secret="x" * 32))
    print(json.dumps(app.openapi(), indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="taskapi", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("serve", help="run the API")
    run.add_argument(
        "--dev",
        action="store_true",
        help="development: generated secret, migrations on start, token printed",
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
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

    tok = commands.add_parser("token", help="mint a signed token (development and testing)")
    tok.add_argument("--user", required=True, help="the user id to put in the token")
    tok.add_argument("--expires-in", type=int, default=3600, help="seconds (default 3600)")
    tok.set_defaults(handler=token)

    spec = commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    spec.set_defaults(handler=openapi)

    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
