"""eval-service request and response shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from tutorlab.contracts.endpoints import CACHE_EPOCH_NAMES, CacheEpoch, ModelEndpoint, ModelParams

from eval_service.custom_tasks import TaskDefinition
from eval_service.epochs import check_reducers

#: sampling defaults for benchmarks: deterministic, and room for reasoning before the answer
DEFAULT_PARAMS = ModelParams(temperature=0.0, max_tokens=2048, seed=0)


class BenchmarkParams(BaseModel):
    """``POST /benchmarks``: what to run, against what, how."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default=None, description="registered model name (with target=tutor-api: its backing model)"
    )
    target: Literal["model", "tutor-api"] = "model"
    suite: str | None = Field(default=None, description="quick | standard | comprehensive")
    tasks: list[str] | None = Field(default=None, description="custom task list instead of a suite")
    limit: int | None = Field(default=None, ge=1, description="items per task (seeded sample)")
    seed: int | None = None
    params: ModelParams = Field(default_factory=ModelParams, description="sampling overrides")
    concurrency: int | None = Field(default=None, ge=1, le=1024)
    request_timeout_s: float = Field(default=300.0, gt=0, le=3600)
    request_deadline_s: float = Field(default=900.0, gt=0, le=24 * 3600)
    no_cache: bool = False
    cache_epoch: CacheEpoch = Field(
        default=0,
        validation_alias=CACHE_EPOCH_NAMES,
        description="the response cache's round: bump to sample again instead of reusing "
        "cached replies (not several samples per item: see epochs); 'epoch', its earlier name, "
        "is still read",
    )
    epochs: int = Field(
        default=1,
        ge=1,
        le=100,
        description="samples per item (each with its own seed: params.seed + epoch); more than "
        "one needs a temperature > 0",
    )
    reducers: list[str] = Field(
        default_factory=lambda: ["mean"],
        min_length=1,
        description="how an item's samples reduce to its score: mean, pass@k (unbiased "
        "estimator), maj@k (majority vote over the first k samples' answers), k <= epochs; "
        "the first is the one comparisons use alongside the others",
    )
    rescore: bool = Field(
        default=False,
        description="score cached replies again even where an identical earlier run's scored "
        "items could be reused",
    )
    error_threshold: float = Field(default=0.10, ge=0, le=1)
    judge: str | None = Field(
        default=None, description="registered model that judges tutoring and safety replies"
    )
    compare_to: str | None = Field(
        default=None,
        description="baseline run id, or a results file (or its folder) inside the outputs "
        "directory",
    )
    label: str | None = Field(
        default=None,
        max_length=200,
        description="output folder name (default: the model name); each run gets its own "
        "runs/<run-id>/ under it",
    )
    registered: ModelEndpoint | None = Field(
        default=None,
        description="set by eval-service, not accepted in a request: the model's registration "
        "when the run was submitted (the run uses it as it was then)",
        json_schema_extra={"readOnly": True},
    )

    custom_tasks: dict[str, TaskDefinition] | None = Field(
        default=None,
        description="set by eval-service, not accepted in a request: the registered custom "
        "tasks the run names, as they were when it was submitted",
        json_schema_extra={"readOnly": True},
    )

    @model_validator(mode="after")
    def _what_to_run(self) -> BenchmarkParams:
        if self.suite is None and not self.tasks:
            raise ValueError("suite: give a suite or a list of tasks")
        if self.suite is not None and self.tasks:
            raise ValueError("tasks: give a suite or a list of tasks, not both")
        if self.target == "model" and not self.model:
            raise ValueError("model: required (the registered model to benchmark)")
        check_reducers(self.reducers, self.epochs)
        if self.epochs > 1 and self.params.temperature is not None:
            check_sampling(self.epochs, self.params)
        return self


def check_sampling(epochs: int, params: ModelParams) -> None:
    """ValueError naming ``params.temperature`` when ``epochs`` > 1 would sample greedily:
    every sample would be the same reply (``params``: the effective ones when known)."""
    if epochs > 1 and not (params.temperature or 0.0) > 0:
        raise ValueError(
            f"params.temperature: epochs={epochs} samples each item {epochs} times, which "
            f"needs a temperature > 0 (it is {params.temperature or 0.0})"
        )


class ComparisonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    baseline: str = Field(
        description="run id, or a benchmark_results.json (or its folder) inside the outputs "
        "directory"
    )
    candidate: str = Field(
        description="run id, or a benchmark_results.json (or its folder) inside the outputs "
        "directory; comparison.json is written in its run folder"
    )
    n_resamples: int = Field(default=10_000, ge=100, le=200_000)
    alpha: float = Field(default=0.05, gt=0, lt=1)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: Literal["gsm8k", "math", "tutoring", "safety", "over_refusal"]
    items: list[dict[str, Any]] = Field(min_length=1, max_length=20_000)
