"""data-service or its worker with the test-only ``count_rows`` job kind, as a process:
``python -m tests.e2e.with_count_rows service|worker [args]``. The e2e stack runs it in place of
``python -m data_service`` / ``python -m data_service.worker`` where a test needs many short jobs.
"""

from __future__ import annotations

import sys

from data_service.__main__ import MIGRATIONS
from data_service.config import DataServiceSettings
from fastapi import FastAPI
from tutorlab.jobs.arq_worker import run_worker_main
from tutorlab.service.runner import serve
from tutorlab.settings import ServiceSettings

from tests.job_kinds import data_service_app, data_worker_settings

#: what a stack's ``commands`` holds to run data-service and its workers with ``count_rows``
COMMANDS = {
    "data-service": ["-m", __name__, "service"],
    "data-worker": ["-m", __name__, "worker"],
}


def _app(settings: ServiceSettings) -> FastAPI:
    assert isinstance(settings, DataServiceSettings)
    return data_service_app(settings)


def main(argv: list[str]) -> None:
    role, rest = (argv[0], argv[1:]) if argv else ("", [])
    settings = DataServiceSettings()
    if role == "service":
        serve(settings, _app, MIGRATIONS, rest)
    elif role == "worker":
        run_worker_main(data_worker_settings(settings), rest)
    else:
        raise SystemExit("usage: python -m tests.e2e.with_count_rows service|worker [args]")


if __name__ == "__main__":
    main(sys.argv[1:])
