"""The TypeScript SDK, packed and installed once per pytest process (see
tests/support/typescript_sdk.py)."""

from pathlib import Path

import pytest

from tests.support.typescript_sdk import install, pack


@pytest.fixture(scope="session")
def sdk_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pack(tmp_path_factory.mktemp("sdk"))


@pytest.fixture(scope="session")
def sdk_project(sdk_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the tarball installed and its code compiled (NodeNext build in out/)."""
    return install(sdk_tarball, tmp_path_factory.mktemp("consumer") / "app")
