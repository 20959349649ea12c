"""taskapi as deployed: `taskapi serve` in a subprocess on a free port, for clients that need a
real socket (Node.js, a browser). Settings come from the environment, as in production."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings
from tests.support.helpers import SECRET, free_port
from tests.support.processes import serving

STARTUP_DEADLINE_SECONDS = 30


@contextmanager
def live_server(database_url: str, cwd: Path, **settings: str) -> Iterator[str]:
    """The base URL of a production-mode server on `database_url` (already migrated), with
    BETTER_AUTH_SECRET set and these settings (`cors_allow_origins="..."`, ...), on a free
    port. Stopped with SIGTERM, as a deploy stops it."""
    with live_server_on(free_port(), database_url, cwd, **settings) as base_url:
        yield base_url


@contextmanager
def live_server_on(port: int, database_url: str, cwd: Path, **settings: str) -> Iterator[str]:
    """`live_server` on this port: to start a server again where its clients
    expect it, or for settings that name the server's own URL (MCP_RESOURCE_URL)."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env |= {
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "AUTO_MIGRATE": "false",
        "BETTER_AUTH_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        **{name.upper(): value for name, value in settings.items()},
    }
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with serving(
        command,
        cwd=cwd,
        env=env,
        log_path=cwd / f"serve-{port}.log",
        ready_url=f"{base_url}/health",
        name="taskapi serve",
        deadline_seconds=STARTUP_DEADLINE_SECONDS,
    ):
        yield base_url
