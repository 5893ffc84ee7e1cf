"""A worker process that runs the test-only ``wait`` jobs:
``python -m tests.integration.wait_worker [--check]``, configured like data-worker (the
``DATA_SERVICE_*`` variables, ``REDIS_URL``, ``TUTORLAB_QUEUE_PREFIX``), or, with
``WAIT_WORKER_SERVICE=eval-service``, as eval-service's (``EVAL_SERVICE_*``): a second service's
worker on the same Redis."""

from __future__ import annotations

import os
import sys

from data_service.config import DataServiceSettings
from eval_service.config import EvalServiceSettings
from tutorlab.jobs.arq_worker import run_worker_main
from tutorlab.settings import ServiceSettings

from tests.job_kinds import wait_worker_settings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "data-service": DataServiceSettings,
    "eval-service": EvalServiceSettings,
}

if __name__ == "__main__":
    settings = SETTINGS[os.environ.get("WAIT_WORKER_SERVICE", "data-service")]()
    run_worker_main(wait_worker_settings(settings), sys.argv[1:])
