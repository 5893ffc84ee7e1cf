"""eval-worker's probes, importing its settings only, not the worker (a probe runs every few
seconds): ``python -m eval_service.worker_probe --alive`` (liveness: its loop turns) or
``--check`` (readiness: Redis answers and a worker reported); see :mod:`tutorlab.worker_health`.
"""

from tutorlab.worker_health import probe_main

from eval_service.config import EvalServiceSettings

if __name__ == "__main__":
    probe_main(EvalServiceSettings())
