"""taskapi as deployed: `taskapi serve` in a subprocess on a free port, for clients that need a
real socket (Node.js, a browser). Settings come from the environment, as in production."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.support.helpers import SECRET, free_port

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
    log_path = cwd / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"taskapi serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{base_url}/health", timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"taskapi serve did not answer in time:\n{log.read_text()}")
            time.sleep(0.2)
