"""At least once across kill -9 (PostgreSQL): a `taskapi worker` killed while its deliveries
hang leaves them claimed; when their lease ends, two other worker processes send them again,
with the same `webhook-id`. Every event arrives; a duplicate is always the same message."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from app.models import WebhookDelivery
from tests.support.clock import CLOCK, wall_now
from tests.support.helpers import (
    SECRET,
    create_task,
    delete_all_tasks,
    environment_without_settings,
    make_settings,
    running_app,
    sessionmaker_of,
)
from tests.support.webhook_receiver import Receiver
from tests.webhooks.helpers import create_webhook

BACKEND = Path(__file__).parents[2]
DEADLINE_SECONDS = 90  # every wait below is bounded by this, then fails
EVENTS = 20
FAST = {
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOK_TIMEOUT_SECONDS": "3",  # a lease of 6 s
    "WEBHOOK_POLL_SECONDS": "0.1",
    "JOBS_POLL_SECONDS": "0.5",
    "JOBS_HEARTBEAT_SECONDS": "0.5",
    "JOBS_STALLED_AFTER_SECONDS": "2",
    "JOBS_SHUTDOWN_SECONDS": "1",
}


class Workers:
    def __init__(self, database_url: str, logs: Path) -> None:
        self.env = environment_without_settings(
            DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET, **FAST
        )
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker"],
                cwd=BACKEND,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def workers(postgres_url: str, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(postgres_url, tmp_path)
    try:
        yield started
    finally:
        started.stop()


async def until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not await condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_worker_killed_mid_delivery_loses_nothing(
    postgres_url: str, workers: Workers
) -> None:
    CLOCK.set(wall_now())
    receiver = Receiver()
    await receiver.start()
    settings = make_settings(database_url=postgres_url, webhook_allow_private_targets=True)
    try:
        async with running_app(settings) as (app, client):
            await delete_all_tasks(app)
            hook = await create_webhook(client, url=receiver.url())
            created = {(await create_task(client, title=f"t{n}"))["id"] for n in range(EVENTS)}
            receiver.answering.clear()  # the first worker's attempts hang

            doomed = workers.start()

            async def some_arrived() -> bool:
                return bool(receiver.received)

            await until(some_arrived, "the first worker's first attempt")
            os.kill(doomed.pid, signal.SIGKILL)  # the worker this test started
            doomed.wait(timeout=10)
            receiver.answering.set()
            workers.start()
            workers.start()

            async def all_succeeded() -> bool:
                async with sessionmaker_of(app)() as session:
                    pending = await session.scalar(
                        select(func.count()).where(WebhookDelivery.status != "succeeded")  # type: ignore[arg-type]
                    )
                    total = await session.scalar(select(func.count(WebhookDelivery.id)))  # type: ignore[arg-type]
                return pending == 0 and total == EVENTS

            await until(all_succeeded, "every delivery to succeed")
            await delete_all_tasks(app)
    finally:
        await receiver.stop()

    by_id: dict[str, set[bytes]] = {}
    heard = set()
    for received in receiver.received:
        payload = Webhook(hook["secret"]).verify(received.body, received.headers)
        heard.add(payload["data"]["id"])
        by_id.setdefault(received.headers["webhook-id"], set()).add(received.body)
    assert heard == created
    assert len(by_id) == EVENTS
    assert all(len(bodies) == 1 for bodies in by_id.values())  # a duplicate: the same message
    assert len(receiver.received) > EVENTS  # the killed worker's attempts were sent again
