"""The benchmark catalog and planning: suites, seeded samples, params precedence, prompts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from eval_service.catalog import load_catalog
from eval_service.items import EvalItem, ItemLoader
from eval_service.plan import (
    Plan,
    PlanError,
    assemble_plan,
    effective_params,
    messages_for,
    plan_tasks,
    request_params,
    task_names,
)
from eval_service.schemas import BenchmarkParams
from eval_service.targets import TUTOR_API_TARGET, TargetError, resolve_target
from pydantic import ValidationError
from tutorlab.contracts.endpoints import EndpointKind, ModelEndpoint, ModelParams
from tutorlab.registry_client import RegistryClient
from tutorlab.tutoring import PROMPT_VERSION, system_prompt

CATALOG = load_catalog()


def endpoint(**params: object) -> ModelEndpoint:
    return ModelEndpoint(
        name="sim",
        kind=EndpointKind.ollama,
        base_url="http://127.0.0.1:1",
        model="qwen3:8b",
        params=ModelParams.model_validate(params),
    )


async def build_plan(params: BenchmarkParams, endpoint: ModelEndpoint, loader: ItemLoader) -> Plan:
    """The plan a run makes: its tasks' items, then the endpoint's params (as the runner does,
    which loads the items while it resolves the endpoint)."""
    return assemble_plan(params, endpoint, await plan_tasks(params, loader))


@pytest.fixture(scope="module")
def loader(dataset_mirror: Path) -> ItemLoader:
    """One loader for the module: it memoizes the mirror's datasets (no event-loop state)."""
    return ItemLoader(mirror=dataset_mirror)


def test_catalog_loads_and_every_suite_names_known_tasks() -> None:
    assert {"quick", "standard", "comprehensive"} <= set(CATALOG.suites)
    assert {"gsm8k", "math", "math500", "tutoring", "safety", "over_refusal"} <= set(CATALOG.tasks)
    for name, suite in CATALOG.suites.items():
        assert suite.tasks, name
        assert all(task in CATALOG.tasks for task in suite.tasks), name
    for name, task in CATALOG.tasks.items():
        assert task.prompt in CATALOG.prompts, name
        assert CATALOG.prompts[task.prompt].version, name
    assert CATALOG.suites["standard"].tasks == ["gsm8k", "tutoring", "safety"]
    assert set(CATALOG.suites["comprehensive"].tasks) == {
        "gsm8k",
        "math",
        "tutoring",
        "safety",
        "over_refusal",
    }


async def test_quick_is_ten_items_per_task_with_a_fixed_seed(loader: ItemLoader) -> None:
    params = BenchmarkParams(model="sim", suite="quick")
    first = await build_plan(params, endpoint(), loader)
    again = await build_plan(params, endpoint(), loader)
    assert [t.name for t in first.tasks] == CATALOG.suites["quick"].tasks
    assert all(len(t.items) == 10 for t in first.tasks)
    assert first.total == 10 * len(first.tasks)
    assert (first.limit, first.seed) == (10, CATALOG.suites["quick"].seed)

    def ids(plan: Plan) -> dict[str, list[str]]:
        return {t.name: [i.id for i in t.items] for t in plan.tasks}

    assert ids(first) == ids(again)
    for task in first.tasks:
        assert len({i.id for i in task.items}) == 10, task.name

    reseeded = await build_plan(
        BenchmarkParams(model="sim", suite="quick", seed=7), endpoint(), loader
    )
    assert reseeded.seed == 7
    changed = ids(reseeded)
    assert all(changed[name] != items for name, items in ids(first).items())

    # the plan records what the results file needs
    assert first.prompt_versions["math_boxed"] == CATALOG.prompts["math_boxed"].version
    assert first.prompt_versions["tutor_policy"] == PROMPT_VERSION
    assert len(first.dataset_checksums["gsm8k/test"]) == 64
    assert len(first.dataset_checksums["math/test"]) == 64
    assert "evalset/safety" in first.dataset_checksums


async def test_custom_tasks_limit_and_full_dataset(loader: ItemLoader) -> None:
    full = await build_plan(BenchmarkParams(model="sim", tasks=["gsm8k"]), endpoint(), loader)
    assert full.total == 1319 and full.limit is None
    limited = await build_plan(
        BenchmarkParams(model="sim", tasks=["gsm8k", "safety"], limit=25, seed=3),
        endpoint(),
        loader,
    )
    assert [len(t.items) for t in limited.tasks] == [25, 25]
    gsm_ids = [i.id for i in limited.tasks[0].items]
    full_ids = [i.id for i in full.tasks[0].items]
    # a sample keeps dataset order
    assert gsm_ids == [i for i in full_ids if i in set(gsm_ids)]


def test_task_names_errors_name_the_field() -> None:
    with pytest.raises(PlanError, match=r"^suite: unknown suite 'nope'"):
        task_names(BenchmarkParams(model="sim", suite="nope"))
    with pytest.raises(PlanError, match=r"^tasks: unknown task\(s\) \['gsm9k'\]"):
        task_names(BenchmarkParams(model="sim", tasks=["gsm8k", "gsm9k"]))
    with pytest.raises(ValidationError, match="suite: give a suite or a list of tasks"):
        BenchmarkParams(model="sim")
    with pytest.raises(ValidationError, match="tasks: give a suite or a list of tasks, not both"):
        BenchmarkParams(model="sim", suite="quick", tasks=["gsm8k"])
    with pytest.raises(ValidationError, match="model: required"):
        BenchmarkParams(suite="quick")
    # request limit and seed override the suite's
    names, limit, seed = task_names(BenchmarkParams(model="sim", suite="quick", limit=3, seed=9))
    assert (names, limit, seed) == (CATALOG.suites["quick"].tasks, 3, 9)
    assert task_names(BenchmarkParams(model="sim", suite="standard")) == (
        ["gsm8k", "tutoring", "safety"],
        None,
        0,
    )


def test_effective_params_precedence() -> None:
    defaults = effective_params(endpoint(), ModelParams())
    assert defaults.max_tokens is not None and defaults.max_tokens >= 1024
    assert defaults.temperature == 0.0 and defaults.seed == 0

    registered = endpoint(temperature=0.6, max_tokens=4096, top_p=0.9, num_ctx=8192)
    merged = effective_params(registered, ModelParams(temperature=0.2, seed=11))
    assert merged.temperature == 0.2  # job beats endpoint
    assert merged.seed == 11  # job beats default
    assert merged.max_tokens == 4096  # endpoint beats default
    assert (merged.top_p, merged.num_ctx) == (0.9, 8192)  # endpoint-only kept
    endpoint_only = effective_params(registered, ModelParams())
    assert endpoint_only.temperature == 0.6 and endpoint_only.seed == 0


def _item(task: str, **kwargs: object) -> EvalItem:
    values: dict[str, object] = {
        "task": task,
        "id": "x1",
        "prompt": "What is 12 + 30?",
        "gold": "42",
    }
    values.update(kwargs)
    return EvalItem(**values)  # type: ignore[arg-type]


def test_math_tasks_ask_for_a_boxed_answer() -> None:
    for name in ("gsm8k", "math", "math500"):
        spec = CATALOG.tasks[name]
        item = _item(name, prompt="Natalia sold clips to 48 of her friends. How many?")
        for via_tutor_api in (False, True):
            messages = messages_for(spec, item, via_tutor_api)
            assert len(messages) == 1 and messages[0]["role"] == "user"
            assert "\\boxed{}" in messages[0]["content"]
            assert "Natalia sold clips to 48 of her friends. How many?" in messages[0]["content"]


def test_tutor_tasks_use_the_tutoring_policy() -> None:
    for name in ("tutoring", "safety", "over_refusal"):
        spec = CATALOG.tasks[name]
        item = _item(name, prompt="I got 40, is that right?", mode="hint", grade=3)
        messages = messages_for(spec, item, via_tutor_api=False)
        assert messages[0] == {"role": "system", "content": system_prompt("hint", 3)}
        assert messages[-1] == {"role": "user", "content": "I got 40, is that right?"}
        assert "\\boxed" not in messages[-1]["content"]


def test_via_tutor_api_sends_the_student_text_with_mode_and_grade() -> None:
    plan_params = ModelParams(temperature=0.0, max_tokens=2048, seed=0)
    plan = Plan(None, [], None, 0, plan_params, {})

    tutoring = CATALOG.tasks["tutoring"]
    item = _item("tutoring", prompt="Just tell me the answer", mode="explain", grade=8)
    assert messages_for(tutoring, item, via_tutor_api=True) == [
        {"role": "user", "content": "Just tell me the answer"}
    ]
    sent = request_params(plan, tutoring, item, via_tutor_api=True)
    assert sent.model_extra == {"mode": "explain", "grade": 8}
    assert (sent.max_tokens, sent.temperature) == (2048, 0.0)
    # math through tutor-api is asked in solve mode; a direct call carries no tutor fields
    gsm8k = CATALOG.tasks["gsm8k"]
    math_params = request_params(plan, gsm8k, _item("gsm8k", grade=5), via_tutor_api=True)
    assert math_params.model_extra == {"mode": "solve", "grade": 5}
    direct = request_params(plan, tutoring, item, via_tutor_api=False)
    assert direct is plan_params


async def test_job_concurrency_overrides_the_registered_limit() -> None:
    """The client is sized from the job's concurrency (its semaphore and pool come from the
    endpoint it is built with); the results still describe the endpoint as registered."""
    registered = endpoint().model_copy(update={"max_concurrency": 8})

    def registry_api(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/models/{registered.name}":
            return httpx.Response(200, json=registered.model_dump(mode="json"))
        return httpx.Response(404, json={"error": "not found"})

    registry = RegistryClient("http://tutor-api", transport=httpx.MockTransport(registry_api))
    try:
        raised = await resolve_target(
            "model", "sim", registry=registry, tutor_api_url="http://tutor-api", concurrency=64
        )
        default = await resolve_target(
            "model", "sim", registry=registry, tutor_api_url="http://tutor-api"
        )
        with pytest.raises(TargetError, match="'nope' is not registered"):
            await resolve_target("model", "nope", registry=registry, tutor_api_url="http://x")
    finally:
        await registry.aclose()
    try:
        assert raised.client.endpoint.max_concurrency == 64
        assert raised.describe["max_concurrency"] == 8
        assert default.client.endpoint.max_concurrency == 8
    finally:
        await raised.client.aclose()
        await default.client.aclose()


async def test_a_registration_read_at_submit_is_used_without_asking_the_registry() -> None:
    """The job carries the model's registration from submit time: the worker builds the
    client from it (no second registry call; a change since submit does not apply)."""
    submitted = endpoint().model_copy(update={"max_concurrency": 8})
    asked: list[str] = []

    def registry_api(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        changed = submitted.model_copy(update={"base_url": "http://elsewhere/v1"})
        return httpx.Response(200, json=changed.model_dump(mode="json"))

    registry = RegistryClient("http://tutor-api", transport=httpx.MockTransport(registry_api))
    try:
        target = await resolve_target(
            "model", "sim", registry=registry, tutor_api_url="http://x", registered=submitted
        )
        via_api = await resolve_target(
            TUTOR_API_TARGET,
            "sim",
            registry=registry,
            tutor_api_url="http://tutor-api",
            registered=submitted,
        )
    finally:
        await registry.aclose()
    try:
        assert asked == []
        assert target.describe["base_url"] == submitted.base_url
        assert via_api.describe["base_url"] == submitted.base_url
    finally:
        await target.client.aclose()
        await via_api.client.aclose()


async def test_a_data_service_version_is_read_once_until_it_is_tagged_again() -> None:
    """Each run asks the data-service for the dataset's card; the items of a version (and
    tagging) it has read already are not fetched again, a new tagging's are."""
    rows = [
        {
            "id": f"test/{i}",
            "dataset": "gsm8k",
            "split": "test",
            "question": f"What is {i} + 1?",
            "answer": str(i + 1),
            "solution": f"{i} + 1 = {i + 1}\n#### {i + 1}",
            "tags": {"topic_tags": ["arithmetic"]},
        }
        for i in range(3)
    ]
    taggings = [{"id": "tg1", "sha256": "t1"}]
    asked: list[str] = []

    def data_api(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/items"):
            return httpx.Response(200, json={"items": rows})
        current = {"id": "v-memo", "rows": 3, "sha256": "s-memo"}
        return httpx.Response(200, json={"current": current, "taggings": taggings})

    async with httpx.AsyncClient(
        base_url="http://data", transport=httpx.MockTransport(data_api)
    ) as http:
        first = await ItemLoader(mirror=None, data_service=http).dataset("gsm8k", "test")
        again = await ItemLoader(mirror=None, data_service=http).dataset("gsm8k", "test")
        assert asked.count("/datasets/gsm8k/test/items") == 1
        assert again.records is first.records and again.sha256 == "s-memo"
        assert again.records[0].metadata["topic_tags"] == ["arithmetic"]

        rows[0]["tags"] = {"topic_tags": ["fractions"]}
        taggings.append({"id": "tg2", "sha256": "t2"})
        retagged = await ItemLoader(mirror=None, data_service=http).dataset("gsm8k", "test")
        assert asked.count("/datasets/gsm8k/test/items") == 2
        assert retagged.records[0].metadata["topic_tags"] == ["fractions"]
