"""Jobs: one record shape for every service, a store, a queue, and the worker side."""

from tutorlab.jobs.models import TERMINAL_STATUSES, Job, JobPublic, JobStatus
from tutorlab.jobs.queue import ArqJobQueue, InMemoryJobQueue, JobQueue
from tutorlab.jobs.store import IdempotencyConflict, JobStore

__all__ = [
    "TERMINAL_STATUSES",
    "ArqJobQueue",
    "IdempotencyConflict",
    "InMemoryJobQueue",
    "Job",
    "JobPublic",
    "JobQueue",
    "JobStatus",
    "JobStore",
]
