"""Webhook delivery: how many deliveries per second one worker sends to a local receiver, and
the delay from a change's commit to its arrival (p50 / p99).

100 users with one webhook each (`task.created`). Throughput: 100 tasks per user (10,000
events) are written while no worker runs, then one worker (this process) delivers them all.
Delay: with the worker running, tasks are created at a steady pace through the tasks service
(a real commit with its outbox event each), and the receiver notes, per delivery, how long
after the task's `updated_at` it arrived. The receiver is another process (its own core when
there is one). Prints figures; asserts nothing (the machine is shared and noisy).

    .venv/bin/python -m bench.webhooks                      # from backend/, on SQLite
    .venv/bin/python -m bench.webhooks --database-url postgresql+asyncpg://postgres@127.0.0.1/x
"""

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import orjson

from app.config import Settings
from app.db.database import Database
from app.db.migrate import upgrade_to_head
from app.tasks import service as tasks
from app.tasks.family import TreeLimits
from app.tasks.schemas import TaskCreate
from app.webhooks import service as webhooks
from app.webhooks.schemas import WebhookCreate
from app.webhooks.ssrf import SystemResolver
from app.webhooks.worker import WebhookWorker

USERS = 100
PER_USER = 100
LIMITS = TreeLimits(max_tasks=10**9)


def _receive(port: Connection, count: "Synchronized[int]", stop: Connection) -> None:
    """The receiver process: answers 204, counts, and notes each delivery's delay."""
    delays: list[float] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                changed = orjson.loads(body)["data"]["updated_at"].replace("Z", "+00:00")
                delays.append(time.time() - datetime.fromisoformat(changed).timestamp())
                with count.get_lock():
                    count.value += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port.send(server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, stop.recv)
        stop.send(delays)

    asyncio.run(main())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _setup(database: Database, settings: Settings, url: str) -> list[str]:
    users = [f"bench{n:03d}user{'x' * 20}" for n in range(USERS)]
    for user in users:
        body = WebhookCreate(url=url, event_types=["task.created"])
        await webhooks.create_webhook(database, user, body, settings, SystemResolver())
    return users


async def _write(database: Database, users: list[str], per_user: int) -> None:
    for n in range(per_user):
        for user in users:
            await tasks.create_task(database, user, TaskCreate(title=f"t{n}"), LIMITS)


async def _until(count: "Synchronized[int]", target: int) -> None:
    while True:  # another process counts: nothing to wait on but time
        if count.value >= target:
            return
        await asyncio.sleep(0.01)


async def run(database_url: str, per_user: int, paced_seconds: float, rate: float) -> None:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        better_auth_secret="bench-secret-that-is-long-enough-0123456789",
        webhook_allow_private_targets=True,
        max_webhooks_per_user=1,
    )
    database = Database(settings)
    await upgrade_to_head(database.engine)
    ports, their_ports = multiprocessing.Pipe()
    stop, their_stop = multiprocessing.Pipe()
    count: Synchronized[int] = multiprocessing.Value("i", 0)
    receiver = multiprocessing.Process(target=_receive, args=(their_ports, count, their_stop))
    receiver.start()
    try:
        url = f"http://127.0.0.1:{ports.recv()}/hook"
        users = await _setup(database, settings, url)
        started = time.perf_counter()
        await _write(database, users, per_user)
        written = time.perf_counter() - started
        total = USERS * per_user
        print(f"wrote {total} tasks (events) in {written:.1f} s, no worker running")
        worker = WebhookWorker(database, settings)
        running = asyncio.create_task(worker.run())
        started = time.perf_counter()
        await _until(count, total)
        elapsed = time.perf_counter() - started
        print(f"backlog: {total} deliveries in {elapsed:.1f} s = {total / elapsed:.0f}/s")
        backlog = count.value
        paced = int(paced_seconds * rate)
        started = time.perf_counter()
        for n in range(paced):
            await tasks.create_task(database, users[n % USERS], TaskCreate(title="p"), LIMITS)
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        await _until(count, backlog + paced)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        stop.send("stop")
        delays = stop.recv()[backlog:]
        print(
            f"paced: {paced} tasks at {rate:.0f}/s, commit -> delivery "
            f"p50 {statistics.median(delays) * 1000:.0f} ms, "
            f"p99 {_percentile(delays, 0.99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )
    finally:
        receiver.terminate()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="default: a scratch SQLite file")
    parser.add_argument("--per-user", type=int, default=PER_USER, help="backlog tasks per user")
    parser.add_argument("--paced-seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=50, help="paced tasks per second")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = arguments.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        asyncio.run(run(url, arguments.per_user, arguments.paced_seconds, arguments.rate))


if __name__ == "__main__":
    main()
