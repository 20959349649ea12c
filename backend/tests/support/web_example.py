"""The Next.js app in examples/web, as a user runs it: `next build` (once, and again only when
its sources change), Better Auth's tables created by its migrate script in a fresh SQLite file,
then `next start` on a free port pointed at a taskapi server.

Needs Node.js and `npm ci` in examples/web (scripts/test runs `ensure_web_example` when npm is
there); skipped without them, unless TASKAPI_REQUIRE_WEB=1 (CI), which fails then.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.processes import serving

ROOT = Path(__file__).resolve().parents[3]
WEB_DIR = ROOT / "examples" / "web"
SDK_DIST = ROOT / "clients" / "typescript" / "dist"
REQUIRE_WEB = os.environ.get("TASKAPI_REQUIRE_WEB") == "1"
SOURCES = (
    "app",
    "components",
    "lib",
    "scripts",
    "next.config.mjs",
    "package-lock.json",
    "tsconfig.json",
)
STAMP = WEB_DIR / ".next" / "taskapi-sources"
START_DEADLINE_SECONDS = 60
BUILD_TIMEOUT_SECONDS = 900
# A fixed secret for Better Auth in tests (it signs sessions; the API never sees it).
AUTH_SECRET = "web-example-test-secret-0123456789abcdef"


def node() -> str:
    found = shutil.which("node")
    if found is None or not (WEB_DIR / "node_modules" / "next").is_dir():
        message = f"needs Node.js and `npm ci` in {WEB_DIR} (scripts/_env.sh ensure_web_example)"
        if REQUIRE_WEB:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def _sources_digest() -> str:
    digest = hashlib.sha256()
    files = [WEB_DIR / name for name in SOURCES]
    for entry in files:
        paths = sorted(entry.rglob("*")) if entry.is_dir() else [entry]
        for path in paths:
            if path.is_file():
                digest.update(str(path.relative_to(WEB_DIR)).encode())
                digest.update(path.read_bytes())
    for path in sorted(SDK_DIST.rglob("*.js")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build() -> None:
    """`next build` unless the last build was of these very sources. A file lock keeps
    parallel pytest workers from building the same folder at once."""
    node_path = node()
    with (WEB_DIR / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = _sources_digest()
        if STAMP.is_file() and STAMP.read_text() == digest:
            return
        next_bin = WEB_DIR / "node_modules" / "next" / "dist" / "bin" / "next"
        result = subprocess.run(
            [node_path, str(next_bin), "build"],
            cwd=WEB_DIR,
            env={**os.environ, "NEXT_TELEMETRY_DISABLED": "1"},
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_SECONDS,
        )
        assert result.returncode == 0, f"next build failed:\n{result.stdout}\n{result.stderr}"
        STAMP.write_text(digest)


@contextmanager
def web_app(
    port: int, api_url: str, folder: Path, auth_database_url: str | None = None
) -> Iterator[str]:
    """The built app on `port` (its own URL is Better Auth's issuer, audience and JWKS host),
    calling taskapi at `api_url`, with its Better Auth tables in `auth_database_url`
    (PostgreSQL, `postgresql://...`) or else in a new SQLite file."""
    node_path = node()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NEXT_TELEMETRY_DISABLED": "1",
        "AUTH_DATABASE_PATH": str(folder / "auth.sqlite"),
        **({"AUTH_DATABASE_URL": auth_database_url} if auth_database_url else {}),
        "BETTER_AUTH_URL": base_url,
        "BETTER_AUTH_SECRET": AUTH_SECRET,
        "TASKAPI_URL": api_url,
    }
    subprocess.run(
        [node_path, "scripts/migrate.mjs"], cwd=WEB_DIR, env=env, check=True, capture_output=True
    )
    log_path = folder / f"next-{port}.log"
    next_bin = WEB_DIR / "node_modules" / "next" / "dist" / "bin" / "next"
    command = [node_path, str(next_bin), "start", "--hostname", "127.0.0.1", "--port", str(port)]
    with serving(
        command,
        cwd=WEB_DIR,
        env=env,
        log_path=log_path,
        ready_url=f"{base_url}/api/auth/jwks",
        name="next start",
        deadline_seconds=START_DEADLINE_SECONDS,
    ):
        yield base_url
