"""After training: register the sampler in tutor-api, probe it, and (with ``benchmark_after``)
benchmark it in the eval-service against the baseline — over REST, like any other client."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from trainer_service.config import TrainerServiceSettings

log = logging.getLogger("trainer_service.pipeline")

_TERMINAL = {"succeeded", "failed", "cancelled"}


class PipelineError(Exception):
    """A call to another service failed; the message names the service and the answer."""


@dataclass
class BenchmarkOutcome:
    id: str
    status: str
    results: dict[str, Any] | None = None
    comparison: dict[str, Any] | None = None
    comparison_error: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Pipeline:
    def __init__(self, settings: TrainerServiceSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        key = settings.api_key_value()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def _call(self, method: str, url: str, service: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        try:
            return await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise PipelineError(
                f"{service} unreachable at {url}: {type(exc).__name__}: {exc}"
            ) from exc

    async def register(
        self, name: str, sampler_path: str, metadata: dict[str, Any], *, backend: str
    ) -> dict[str, Any]:
        """Register the sampler: a ``tinker`` endpoint (Tinker's OpenAI-compatible API, with
        ``TINKER_API_KEY``); a simulated run's sampler is an ``openai`` endpoint on the simulator,
        which needs no key. A name taken by an earlier registration of the same sampler is
        reused; a name taken by another model is an error."""
        url = f"{self.settings.tutor_api_url}/models"
        body = {
            "name": name,
            "kind": "openai" if backend == "simulated" else "tinker",
            "base_url": self.settings.sampler_base_url(backend),
            "model": sampler_path,
            # the model was trained on Qwen3's non-thinking form: serve it in that form
            "params": {"think": False},
            "metadata": {**metadata, "simulated": backend == "simulated"},
        }
        response = await self._call("POST", url, "tutor-api", json=body)
        if response.status_code == 409:
            existing = await self._call("GET", f"{url}/{name}", "tutor-api")
            if existing.status_code == 200 and existing.json().get("model") == sampler_path:
                return dict(existing.json())
        if response.status_code >= 400:
            raise PipelineError(
                f"tutor-api refused to register {name!r}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return dict(response.json())

    async def probe(self, name: str) -> dict[str, Any]:
        url = f"{self.settings.tutor_api_url}/models/{name}/probe"
        response = await self._call("POST", url, "tutor-api")
        if response.status_code >= 400:
            raise PipelineError(
                f"probe of {name!r} failed: {response.status_code} {response.text[:300]}"
            )
        return dict(response.json())

    async def start_benchmark(
        self, model: str, suite: str, compare_to: str | None, label: str, idempotency_key: str
    ) -> str:
        body: dict[str, Any] = {"model": model, "suite": suite, "label": label}
        if compare_to:
            body["compare_to"] = compare_to
        response = await self._call(
            "POST",
            f"{self.settings.eval_service_url}/benchmarks",
            "eval-service",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code >= 400:
            raise PipelineError(
                f"eval-service refused the benchmark: {response.status_code} {response.text[:300]}"
            )
        return str(response.json()["id"])

    async def build_teacher_set(
        self, request: dict[str, Any], idempotency_key: str, timeout_s: float = 24 * 3600
    ) -> str:
        """Off-policy distillation data: the data-service's teacher builder, waited for; returns
        the training-set id."""
        base = self.settings.data_service_url
        response = await self._call(
            "POST",
            f"{base}/training-sets/build/teacher",
            "data-service",
            json=request,
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code >= 400:
            raise PipelineError(
                "data-service refused the teacher build: "
                f"{response.status_code} {response.text[:300]}"
            )
        job = await self._wait_job(base, "data-service", str(response.json()["id"]), timeout_s)
        if job.get("status") != "succeeded":
            raise PipelineError(
                f"the teacher build {job.get('id')} ended {job.get('status')}: {job.get('error')}"
            )
        result = job.get("result") or {}
        set_id = result.get("training_set")
        if not set_id:
            raise PipelineError(f"the teacher build {job.get('id')} gave no training set")
        return str(set_id)

    async def _wait_job(
        self, base: str, service: str, job_id: str, timeout_s: float
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            wait = max(0.0, min(60.0, deadline - loop.time()))
            response = await self._call(
                "GET", f"{base}/jobs/{job_id}", service, params={"wait_s": wait}, timeout=wait + 30
            )
            if response.status_code >= 400:
                raise PipelineError(f"{service}: job {job_id}: {response.status_code}")
            job: dict[str, Any] = response.json()
            if job.get("status") in _TERMINAL or loop.time() >= deadline:
                return job

    async def wait_benchmark(self, run_id: str, timeout_s: float) -> BenchmarkOutcome:
        """Long-poll the benchmark until it ends (or ``timeout_s``), then read its results and
        its comparison."""
        base = self.settings.eval_service_url
        job = await self._wait_job(base, "eval-service", run_id, timeout_s)
        status = str(job.get("status"))
        outcome = BenchmarkOutcome(id=run_id, status=status, error=job.get("error"))
        if status != "succeeded":
            return outcome
        results = await self._call("GET", f"{base}/benchmarks/{run_id}/results", "eval-service")
        if results.status_code == 200:
            outcome.results = results.json()
        summary = job.get("result") or {}
        outcome.comparison_error = summary.get("comparison_error")
        comparison_id = summary.get("comparison_id")
        if comparison_id:
            comparison = await self._call(
                "GET", f"{base}/comparisons/{comparison_id}", "eval-service"
            )
            if comparison.status_code == 200:
                outcome.comparison = comparison.json()
        return outcome
