"""Fixtures of the database plumbing's tests."""

from collections.abc import AsyncIterator

import pytest

from app.db.database import Database
from tests.support.clock import CLOCK
from tests.support.helpers import make_settings


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The app's `Database` on the test's database (SQLite or PostgreSQL), disposed after."""
    database = Database(make_settings(database_url=database_url), CLOCK)
    try:
        yield database
    finally:
        await database.dispose()
