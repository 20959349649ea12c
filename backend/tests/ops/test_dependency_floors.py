"""An install without backend/constraints.txt (pip install taskapi) never takes a version with
a known vulnerability of these: the floors in pyproject.toml exclude them."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
CONSTRAINTS = Path(__file__).parents[2] / "constraints.txt"
# Packages whose floor is the very version constraints.txt pins (issue 23): an install without
# the constraints gets nothing older than what the tests ran with.
FLOOR_IS_THE_PIN = ["orjson", "cryptography"]

# package -> the newest vulnerable version it must never resolve to
VULNERABLE = {
    "pyjwt": "2.12.99",  # CVE-2026-48522..48526, fixed in 2.13
    "starlette": "1.0.0",  # CVE-2026-48710, fixed in 1.0.1
    "h11": "0.15.99",  # CVE-2025-43859, fixed in 0.16
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    parsed = (Requirement(line) for line in project["dependencies"])
    return {requirement.name.lower(): requirement for requirement in parsed}


@pytest.mark.parametrize(("package", "vulnerable"), VULNERABLE.items())
def test_floor_excludes_the_vulnerable_versions(package: str, vulnerable: str) -> None:
    requirement = requirements()[package]
    assert not requirement.specifier.contains(vulnerable, prereleases=True), requirement


def pinned() -> dict[str, str]:
    lines = CONSTRAINTS.read_text().split()
    return {Requirement(line).name.lower(): line.split("==", 1)[1] for line in lines}


@pytest.mark.parametrize("package", FLOOR_IS_THE_PIN)
def test_floor_is_the_pinned_version(package: str) -> None:
    requirement = requirements()[package]
    assert str(requirement.specifier) == f">={pinned()[package]}", requirement
