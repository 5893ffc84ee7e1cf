"""The job kinds eval-service runs."""

from __future__ import annotations

from tutorlab.jobs.runtime import JobKind

from eval_service.runner import run_benchmark
from eval_service.schemas import BenchmarkParams

BENCHMARK = "benchmark"
#: ids of this service's jobs start with it (``bench_…``); the service and its worker both use it
JOB_PREFIX = "bench"

KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(BENCHMARK, BenchmarkParams, run_benchmark, "run a benchmark suite against a model"),
    )
}
#: the route each kind is submitted through (it checks the model and sets ``registered``)
ROUTES: dict[str, str] = {BENCHMARK: "POST /benchmarks"}
