"""A worker process for tests/reminders: fires every reminder due at the given moment (the
tests' clock, passed in, since a subprocess cannot share it) and prints how many it fired.

    python -m tests.support.fire_reminders DATABASE_URL 2026-11-27T12:01:00+00:00
"""

import asyncio
import sys
from datetime import datetime

from app.config import Settings
from app.db.database import Database
from app.reminders.service import fire_due


async def main(url: str, now: datetime) -> None:
    database = Database(Settings(_env_file=None, environment="development", database_url=url))
    try:
        sys.stdout.write(f"{await fire_due(database, now)}\n")
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2])))
