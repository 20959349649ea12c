"""scripts/_env.sh as the scripts use it, in a temporary copy of the repository whose
`.venv/bin/python` only records the pip commands it is given (nothing is installed)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RECORDING_PYTHON = '#!/usr/bin/env bash\necho "$*" >> "$(dirname "$0")/../pip.log"\n'


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "backend").mkdir()
    shutil.copy(ROOT / "scripts" / "_env.sh", tmp_path / "scripts")
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / "backend" / name, tmp_path / "backend")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(RECORDING_PYTHON)
    python.chmod(0o755)
    return tmp_path


def ensure_venv(root: Path, *extras: str) -> None:
    """`ensure_venv EXTRAS` once per argument, in order, as scripts/run and scripts/test do."""
    calls = "; ".join(f"ensure_venv '{extra}'" for extra in extras)
    subprocess.run(
        ["bash", "-c", f"source scripts/_env.sh; {calls}"],
        cwd=root,
        capture_output=True,
        timeout=60,
        check=True,
    )


def installs(root: Path) -> list[str]:
    log = root / ".venv" / "pip.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.rsplit(" -e ", 1)[1] for line in lines if " -e " in line]


def test_switching_between_run_and_test_installs_once(repo_copy: Path) -> None:
    ensure_venv(repo_copy, "dev", "", "dev", "")

    assert installs(repo_copy) == [f"{repo_copy}/backend[dev]"]


def test_run_first_then_test_adds_the_dev_extras_once(repo_copy: Path) -> None:
    ensure_venv(repo_copy, "", "", "dev", "", "dev")

    assert installs(repo_copy) == [f"{repo_copy}/backend", f"{repo_copy}/backend[dev]"]


def test_changed_constraints_reinstall(repo_copy: Path) -> None:
    ensure_venv(repo_copy, "dev")
    with (repo_copy / "backend" / "constraints.txt").open("a") as constraints:
        constraints.write("# changed\n")

    ensure_venv(repo_copy, "")

    assert installs(repo_copy) == [f"{repo_copy}/backend[dev]", f"{repo_copy}/backend"]
