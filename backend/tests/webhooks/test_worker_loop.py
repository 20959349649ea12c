"""The webhook worker runs by itself beside the job worker: a change made through the API
arrives at the receiver without anyone driving the worker."""

import asyncio

from standardwebhooks import Webhook

from tests.conftest import StartApp
from tests.support.clock import CLOCK, wall_now
from tests.support.helpers import create_task
from tests.support.webhook_receiver import Receiver
from tests.webhooks.helpers import create_webhook

DEADLINE_SECONDS = 30  # bounded wait, then fail


async def test_the_job_worker_runs_the_webhook_worker(start_app: StartApp) -> None:
    CLOCK.set(wall_now())
    receiver = Receiver()
    await receiver.start()
    settings = {
        "jobs_in_process": True,
        "webhook_allow_private_targets": True,
        "webhook_poll_seconds": 0.05,
    }
    try:
        async with start_app(**settings) as (_, client):
            hook = await create_webhook(client, url=receiver.url())
            task = await create_task(client, title="by itself")
            async with asyncio.timeout(DEADLINE_SECONDS):
                await receiver.arrived.wait()
    finally:
        await receiver.stop()

    (received,) = receiver.received
    payload = Webhook(hook["secret"]).verify(received.body, received.headers)
    assert payload["data"] == task
