"""Turn benchmark params into a plan: which tasks, which items, which prompts and params."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from tutorlab.contracts.endpoints import ModelEndpoint, ModelParams
from tutorlab.tutoring import PROMPT_VERSION, build_messages

from eval_service.catalog import Catalog, TaskSpec, load_catalog
from eval_service.items import EvalItem, ItemLoader, select
from eval_service.schemas import DEFAULT_PARAMS, BenchmarkParams

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

    @property
    def total(self) -> int:
        return sum(len(t.items) for t in self.tasks)


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
    unknown = [n for n in names if n not in catalog.tasks]
    if unknown:
        raise PlanError(f"tasks: unknown task(s) {unknown}; known: {sorted(catalog.tasks)}")
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
    for name in names:
        spec = catalog.tasks[name]
        items = await loader.items(name, spec)
        tasks.append(TaskPlan(name, spec, select(items, limit, seed)))
        versions[spec.prompt] = catalog.prompts[spec.prompt].version
        if spec.prompt == "tutor_policy":
            versions["tutor_policy"] = PROMPT_VERSION
    return PlannedTasks(names, limit, seed, tasks, versions, dict(loader.checksums))


def assemble_plan(params: BenchmarkParams, endpoint: ModelEndpoint, planned: PlannedTasks) -> Plan:
    return Plan(
        suite=params.suite,
        tasks=planned.tasks,
        limit=planned.limit,
        seed=planned.seed,
        params=effective_params(endpoint, params.params),
        prompt_versions=planned.prompt_versions,
        dataset_checksums=planned.dataset_checksums,
    )


def user_text(task: TaskSpec, item: EvalItem) -> str:
    """What the model is asked: the math prompt around a question, or the student's message."""
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
    if not via_tutor_api:
        return plan.params
    mode = "solve" if task.scorer in MATH_SCORERS else item.mode
    return plan.params.merged({"mode": mode, "grade": item.grade})


def config_hash(config: dict[str, Any]) -> str:
    payload = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
