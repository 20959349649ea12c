"""The one place that lists the app's jobs and what runs on a schedule."""

from app.jobs.base import JobRegistry
from app.reminders import service as reminders
from app.sync import retention
from app.webhooks import worker as webhooks

JOBS = JobRegistry()

JOBS.periodic("sync.purge_expired", schedule=lambda settings: settings.sync_purge_schedule)(
    retention.purge_expired_job
)

# Derives webhook deliveries from the outbox and sends them, in every working process.
JOBS.loop("webhooks.deliver")(webhooks.run_webhook_worker)
# Every minute by default: a reminder fires within a minute of its time (app.reminders.service).
JOBS.periodic("reminders.fire_due", schedule=lambda settings: settings.reminders_schedule)(
    reminders.fire_due_job
)
