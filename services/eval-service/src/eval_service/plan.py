"""Turn benchmark params into a plan: which tasks, which items, which prompts and params."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams
from tutorlab.tutoring import PROMPT_VERSION, build_messages

from eval_service.catalog import Catalog, TaskSpec, load_catalog
from eval_service.epochs import sample_id
from eval_service.items import EvalItem, ItemLoader, select
from eval_service.schemas import DEFAULT_PARAMS, BenchmarkParams, check_sampling

MATH_SCORERS = {"gsm8k", "math"}


class PlanError(ValueError):
    pass


@dataclass
class TaskPlan:
    name: str
    spec: TaskSpec
    items: list[EvalItem]


@dataclass
class Plan:
    suite: str | None
    tasks: list[TaskPlan]
    limit: int | None
    seed: int
    params: ModelParams
    prompt_versions: dict[str, str]
    dataset_checksums: dict[str, str] = field(default_factory=dict)
    #: samples per item, and how they reduce to one score per item (:mod:`eval_service.epochs`)
    epochs: int = 1
    reducers: list[str] = field(default_factory=lambda: ["mean"])
    #: each epoch's sampling params (the seed: ``params.seed + epoch``); set in ``__post_init__``
    epoch_params: list[ModelParams] = field(default_factory=list)

    def __post_init__(self) -> None:
        seed = self.params.seed or 0
        self.epoch_params = [self.params] + [
            self.params.merged({"seed": seed + epoch}) for epoch in range(1, self.epochs)
        ]

    @property
    def total(self) -> int:
        """Requests in the run: every item once per epoch."""
        return sum(len(t.items) for t in self.tasks) * self.epochs

    def samples(self, task: TaskPlan) -> list[EvalItem]:
        """The task's items, or with several epochs each item once per epoch as a sample
        (id ``<item id>#<epoch>``)."""
        if self.epochs == 1:
            return task.items
        return [
            replace(item, id=sample_id(item.id, epoch), epoch=epoch)
            for item in task.items
            for epoch in range(self.epochs)
        ]


def task_names(
    params: BenchmarkParams, catalog: Catalog | None = None
) -> tuple[list[str], int | None, int]:
    """(tasks, limit, seed) of a request; PlanError names the unknown suite or task."""
    catalog = catalog or load_catalog()
    if params.suite is not None:
        suite = catalog.suites.get(params.suite)
        if suite is None:
            raise PlanError(
                f"suite: unknown suite {params.suite!r}; known: {sorted(catalog.suites)}"
            )
        names, limit, seed = suite.tasks, suite.limit, suite.seed
    else:
        names, limit, seed = list(params.tasks or []), None, 0
    custom = params.custom_tasks or {}
    unknown = [n for n in names if n not in catalog.tasks and n not in custom]
    if unknown:
        raise PlanError(
            f"tasks: unknown task(s) {unknown}; built in: {sorted(catalog.tasks)} (or register "
            "your own with POST /tasks)"
        )
    if params.limit is not None:
        limit = params.limit
    if params.seed is not None:
        seed = params.seed
    return names, limit, seed


def effective_params(endpoint: ModelEndpoint, requested: ModelParams) -> ModelParams:
    """Benchmark defaults, under the endpoint's registered params, under the job's overrides."""
    return DEFAULT_PARAMS.merged(endpoint.params).merged(requested)


@dataclass
class PlannedTasks:
    """A request's tasks with their items: everything in a plan but the endpoint's params."""

    names: list[str]
    limit: int | None
    seed: int
    tasks: list[TaskPlan]
    prompt_versions: dict[str, str]
    dataset_checksums: dict[str, str]


async def plan_tasks(params: BenchmarkParams, loader: ItemLoader) -> PlannedTasks:
    catalog = load_catalog()
    names, limit, seed = task_names(params, catalog)
    tasks = []
    versions: dict[str, str] = {"catalog": catalog.version}
    custom = params.custom_tasks or {}
    for name in names:
        spec = catalog.tasks[name] if name in catalog.tasks else custom[name].spec()
        items = await loader.items(name, spec)
        tasks.append(TaskPlan(name, spec, select(items, limit, seed)))
        if spec.custom is not None:  # its template is part of its definition (checksummed)
            versions[spec.prompt] = spec.custom.version
            continue
        versions[spec.prompt] = catalog.prompts[spec.prompt].version
        if spec.prompt == "tutor_policy":
            versions["tutor_policy"] = PROMPT_VERSION
    return PlannedTasks(names, limit, seed, tasks, versions, dict(loader.checksums))


def assemble_plan(params: BenchmarkParams, endpoint: ModelEndpoint, planned: PlannedTasks) -> Plan:
    sampling = effective_params(endpoint, params.params)
    try:
        check_sampling(params.epochs, sampling)
    except ValueError as exc:
        raise PlanError(str(exc)) from exc
    return Plan(
        suite=params.suite,
        tasks=planned.tasks,
        limit=planned.limit,
        seed=planned.seed,
        params=sampling,
        prompt_versions=planned.prompt_versions,
        dataset_checksums=planned.dataset_checksums,
        epochs=params.epochs,
        reducers=list(params.reducers),
    )


def user_text(task: TaskSpec, item: EvalItem) -> str:
    """What the model is asked: the math prompt around a question, or the student's message
    (a custom task's item holds its rendered template)."""
    if task.custom is not None:
        return item.prompt
    if task.scorer in MATH_SCORERS:
        template = load_catalog().prompts[task.prompt].template or "{question}"
        return template.replace("{question}", item.prompt)
    return item.prompt


def messages_for(task: TaskSpec, item: EvalItem, via_tutor_api: bool) -> list[dict[str, str]]:
    text = user_text(task, item)
    if via_tutor_api or task.scorer in MATH_SCORERS:
        return [{"role": "user", "content": text}]
    return [m.model_dump() for m in build_messages(text, item.mode, item.grade)]


def request_params(plan: Plan, task: TaskSpec, item: EvalItem, via_tutor_api: bool) -> ModelParams:
    """The sampling params; through tutor-api they also carry the tutoring mode and grade."""
    params = plan.params if item.epoch is None else plan.epoch_params[item.epoch]
    if not via_tutor_api:
        return params
    mode = "solve" if task.scorer in MATH_SCORERS else item.mode
    return params.merged({"mode": mode, "grade": item.grade})


def config_hash(config: dict[str, Any]) -> str:
    payload = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
