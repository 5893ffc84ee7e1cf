"""trainer-worker's probes, importing its settings only, not the worker (a probe runs every few
seconds): ``python -m trainer_service.worker_probe --alive`` (liveness: its loop turns) or
``--check`` (readiness: Redis answers and a worker reported); see :mod:`tutorlab.worker_health`.
"""

from tutorlab.worker_health import probe_main

from trainer_service.config import TrainerServiceSettings

if __name__ == "__main__":
    probe_main(TrainerServiceSettings())
