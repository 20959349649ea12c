"""A server in a subprocess for the length of a block: started, waited for until a URL answers,
stopped with SIGTERM (SIGKILL if it does not go). Its output goes to a log file that a failure
shows."""

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


@contextmanager
def serving(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    ready_url: str,
    name: str,
    deadline_seconds: float,
) -> Iterator[None]:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(process, ready_url, log_path, name, deadline_seconds)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(
    process: subprocess.Popen[bytes], url: str, log: Path, name: str, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer in time:\n{log.read_text()}")
            time.sleep(0.2)
