"""The job kinds eval-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from eval_service.probe import ProbeParams, probe_model
from eval_service.runner import run_benchmark
from eval_service.schemas import BenchmarkParams

BENCHMARK = "benchmark"

KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(BENCHMARK, BenchmarkParams, run_benchmark, "run a benchmark suite against a model"),
        JobKind("probe_model", ProbeParams, probe_model, "one timed chat with a registered model"),
    )
}
