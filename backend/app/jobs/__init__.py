"""Scheduled and deferred work, run once across processes: procrastinate on PostgreSQL, an
in-process runner on SQLite. The rest of the app uses only what this package exports;
procrastinate is imported nowhere else."""

from app.jobs.base import JobContext, JobFunction, JobRegistry, JobRunner, UnknownJob
from app.jobs.catalogue import JOBS
from app.jobs.runner import open_job_runner, run_worker

__all__ = [
    "JOBS",
    "JobContext",
    "JobFunction",
    "JobRegistry",
    "JobRunner",
    "UnknownJob",
    "open_job_runner",
    "run_worker",
]
