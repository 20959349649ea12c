"""The TypeScript SDK (clients/typescript) as a user gets it: `npm pack`, then the tarball
installed into a fresh project that compiles its code strictly, with `moduleResolution`
NodeNext (run by Node.js) and bundler (what Next.js uses).

Built once per pytest process (session fixtures in tests/ops/conftest.py), from a copy of the
sources, so parallel workers never write the same folder. Needs Node.js and `npm ci` in
clients/typescript; skipped without them, unless TASKAPI_REQUIRE_TYPESCRIPT=1 (CI).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLIENT_DIR = ROOT / "clients" / "typescript"
REQUIRE_TYPESCRIPT = os.environ.get("TASKAPI_REQUIRE_TYPESCRIPT") == "1"
# Redocly and npm: no telemetry, no update check, no network where none is needed.
QUIET = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "NPM_CONFIG_FUND": "false",
    "NPM_CONFIG_AUDIT": "false",
}
STRICT = {
    "strict": True,
    "target": "ES2022",
    "noUncheckedIndexedAccess": True,
    "exactOptionalPropertyTypes": True,
    "skipLibCheck": False,
}
# Node.js alone (no DOM library): the SDK's types must not need it.
NODENEXT = {
    **STRICT,
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["ES2022"],
    "types": ["node"],
    "outDir": "out",
    "rootDir": ".",
}
# A Next.js app: bundler resolution, the DOM, React's JSX.
BUNDLER = {
    **STRICT,
    "module": "ESNext",
    "moduleResolution": "bundler",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "types": ["node"],
    "jsx": "preserve",
    "noEmit": True,
}


def tool(name: str) -> str:
    """An executable on PATH (`node`, `npm`) or in clients/typescript (`tsc`, `redocly`);
    skips (fails in CI) when Node.js or the client's tools are missing."""
    found = shutil.which(name) if name in {"node", "npm"} else None
    local = CLIENT_DIR / "node_modules" / ".bin" / name
    if found is None and local.is_file():
        found = str(local)
    if found is None or not (CLIENT_DIR / "node_modules" / ".bin").is_dir():
        message = f"needs Node.js and `npm ci` in {CLIENT_DIR}"
        if REQUIRE_TYPESCRIPT:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env={**os.environ, **QUIET, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def checked(*args: str, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def pack(work: Path) -> Path:
    """`npm pack` of a copy of the package's sources, built with its own tsconfig."""
    package = work / "package"
    shutil.copytree(CLIENT_DIR / "src", package / "src")
    for name in ("package.json", "README.md", "tsconfig.build.json"):
        shutil.copy(CLIENT_DIR / name, package / name)
    checked(tool("node"), tool("tsc"), "-p", "tsconfig.build.json", cwd=package)
    # The build just ran: `prepack` (the same build) is skipped.
    checked(tool("npm"), "pack", "--ignore-scripts", "--pack-destination", str(work), cwd=package)
    (tarball,) = work.glob("*.tgz")
    return tarball


def install(tarball: Path, project: Path) -> Path:
    """A fresh project with the tarball installed, the tests and examples copied in, compiled
    in both resolution modes; the NodeNext build goes to out/."""
    project.mkdir()
    manifest = {"name": "consumer", "private": True, "type": "module"}
    (project / "package.json").write_text(json.dumps(manifest))
    checked(tool("npm"), "install", "--offline", "--ignore-scripts", str(tarball), cwd=project)
    # Type packages (Node.js, React) for the compiler only: borrowed, not downloaded again.
    (project / "node_modules" / "@types").symlink_to(CLIENT_DIR / "node_modules" / "@types")
    shutil.copytree(CLIENT_DIR / "test", project / "test")
    shutil.copytree(CLIENT_DIR / "examples", project / "examples", ignore=_tsconfig)
    for name, options, include in [
        ("tsconfig.nodenext.json", NODENEXT, ["test"]),
        ("tsconfig.bundler.json", BUNDLER, ["test", "examples"]),
    ]:
        config = {"compilerOptions": options, "include": include}
        (project / name).write_text(json.dumps(config))
        checked(tool("node"), tool("tsc"), "-p", name, cwd=project)
    return project


def _tsconfig(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "tsconfig.json"]
