"""The concurrent-move drill at full length: 20 clients moving the same 50 tasks at random for
a minute (tests/subtasks/test_concurrent_moves.py runs 300 moves), on SQLite and on
PostgreSQL (a scratch database), then the checks of tests/support/move_drill.py: every task
once, one strict order per set of siblings, right counts, the events replaying to the tree.
Prints the moves made and refused, and the time the checks took.

    .venv/bin/python -m bench.concurrent_moves                 # from backend/
    .venv/bin/python -m bench.concurrent_moves --seconds 10 --database sqlite
"""

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrate import upgrade_to_head
from tests.support.helpers import make_settings, running_app
from tests.support.move_drill import check_tree, run_drill, seed

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "taskapi_concurrent_moves"


async def fresh_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'moves.db'}"
    else:
        admin = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
            await connection.exec_driver_sql(f'CREATE DATABASE "{NAME}"')
        await admin.dispose()
        url = make_url(ADMIN_URL).set(database=NAME).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    return url


async def drill(kind: str, seconds: float, clients: int, tasks: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(kind, Path(folder))
        settings = make_settings(database_url=url, rate_limit="off")
        async with running_app(settings) as (app, client):
            ids = await seed(client, tasks)
            result = await run_drill(client, ids, clients=clients, seconds=seconds)
            started = time.perf_counter()
            await check_tree(app, client, ids)
            checked = time.perf_counter() - started
    moved, refused = result.moves[200], sum(result.moves.values()) - result.moves[200]
    print(
        f"{kind:10} {clients} clients x {tasks} tasks, {seconds:.0f} s: {moved} moves "
        f"({moved / seconds:.0f}/s), {refused} refused {dict(result.moves)}; "
        f"checks passed in {checked:.1f} s"
    )


async def main(seconds: float, databases: list[str]) -> None:
    for kind in databases:
        await drill(kind, seconds, clients=20, tasks=50)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    arguments = parser.parse_args()
    kinds = ["sqlite", "postgres"] if arguments.database == "both" else [arguments.database]
    asyncio.run(main(arguments.seconds, kinds))
