"""A worker process that runs the test-only ``wait`` jobs:
``python -m tests.integration.wait_worker`` (with ``--alive`` or ``--check``: its probes, as
``<pkg>.worker_probe`` runs them), configured like data-worker (the
``DATA_SERVICE_*`` variables, ``REDIS_URL``, ``TUTORLAB_QUEUE_PREFIX``), or, with
``WAIT_WORKER_SERVICE=eval-service``, as eval-service's (``EVAL_SERVICE_*``): a second service's
worker on the same Redis.

With ``WAIT_WORKER_DIES_AT_PICKUP=1`` the worker SIGKILLs itself as soon as arq hands it a job:
after arq marked the job in progress, before the database claim (a crash in that window)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from data_service.config import DataServiceSettings
from eval_service.config import EvalServiceSettings
from tutorlab.jobs.arq_worker import run_worker_main
from tutorlab.settings import ServiceSettings
from tutorlab.worker_health import probe_main

from tests.job_kinds import wait_worker_settings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "data-service": DataServiceSettings,
    "eval-service": EvalServiceSettings,
}


def dying_at_pickup(worker_settings: type) -> type:
    """The same worker, whose job function kills the process before it claims anything."""
    [run_job] = worker_settings.functions  # type: ignore[attr-defined]

    async def die(ctx: dict[str, Any], job_id: str) -> str:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    die.__name__ = die.__qualname__ = run_job.__name__
    worker_settings.functions = [die]  # type: ignore[attr-defined]
    return worker_settings


if __name__ == "__main__":
    settings = SETTINGS[os.environ.get("WAIT_WORKER_SERVICE", "data-service")]()
    if sys.argv[1:]:
        probe_main(settings, sys.argv[1:])
    worker_settings = wait_worker_settings(settings)
    if os.environ.get("WAIT_WORKER_DIES_AT_PICKUP"):
        worker_settings = dying_at_pickup(worker_settings)
    run_worker_main(worker_settings)
