"""A NUL in a request body's string is a 422 naming the field, on SQLite and on PostgreSQL, which
refuses a NUL in a text column (a model registered with one was a 500 there): JSON bodies, and
the YAML task files and training configs whose ``"\\0"`` escape makes one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import app_client, migrate
from tests.unit.services_support import KEY, service_app

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {KEY}"}
YAML = {**AUTH, "Content-Type": "application/yaml"}
MODEL = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "qwen3:8b"}
TASK = """\
name: {name}
version: "1"
dataset: {{source: data-service, name: gsm8k, split: test}}
prompt: {{template: "Q: {{question}}"}}
fields: {{id: id, target: answer, context: [question]}}
scorer: {{name: gsm8k}}
"""
TRAINING = """\
name: {name}
backend: simulated
model: {{base_model: qwen3:8b}}
data: {{train_file: data/train.jsonl}}
"""

Client = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Client:
    """``async with service(name) as client``: that service on ``database_url``, migrated."""

    @asynccontextmanager
    async def make(name: str) -> AsyncIterator[httpx.AsyncClient]:
        await migrate(name, database_url)
        async with app_client(service_app(name, database_url, tmp_path)) as client:
            yield client

    return make


def named(response: httpx.Response) -> list[tuple[str, Any]]:
    assert response.status_code == 422, response.text
    return [(d["field"], d.get("line")) for d in response.json()["detail"]]


async def test_a_model_registration_with_a_nul_is_a_422(service: Client) -> None:
    async with service("tutor-api") as client:
        for body, field in (
            ({**MODEL, "name": "tutor\x00"}, "name"),
            ({**MODEL, "name": "tutor", "base_url": "http://127.0.0.1:9/\x00"}, "base_url"),
        ):
            response = await client.post("/models", json=body, headers=AUTH)
            assert named(response) == [(field, None)]
        assert (await client.get("/models")).json() == []
        created = await client.post("/models", json={**MODEL, "name": "tutor"}, headers=AUTH)
        assert created.status_code == 201, created.text
        patched = await client.patch("/models/tutor", json={"model": "q\x00"}, headers=AUTH)
        assert named(patched) == [("model", None)]


async def test_a_task_file_with_a_nul_is_a_422_naming_its_field(service: Client) -> None:
    async with service("eval-service") as client:
        yaml_nul = await client.post("/tasks", content=TASK.format(name='"plain\\0"'), headers=YAML)
        assert named(yaml_nul) == [("name", 1)]
        json_nul = await client.post(
            "/tasks",
            json={"name": "plain", "version": "1", "prompt": {"template": "{question}\x00"}},
            headers=AUTH,
        )
        assert named(json_nul) == [("prompt.template", None)]
        created = await client.post("/tasks", content=TASK.format(name="plain"), headers=YAML)
        assert created.status_code == 201, created.text


async def test_a_training_config_with_a_nul_is_a_422_naming_its_field(service: Client) -> None:
    async with service("trainer-service") as client:
        yaml_nul = await client.post(
            "/trainings", content=TRAINING.format(name='"run\\0"'), headers=YAML
        )
        assert named(yaml_nul) == [("name", 1)]
        json_nul = await client.post(
            "/trainings",
            json={"name": "run", "backend": "simulated", "model": {"base_model": "qwen3\x00"}},
            headers=AUTH,
        )
        assert named(json_nul) == [("model.base_model", None)]
        listed = await client.get("/trainings")
        assert listed.status_code == 200 and listed.json() == []


async def test_a_job_whose_params_hold_a_nul_is_a_422(service: Client) -> None:
    async with service("data-service") as client:
        response = await client.post(
            "/datasets/download", json={"name": "gsm8k", "revision": "main\x00"}, headers=AUTH
        )
        assert named(response) == [("revision", None)]
        assert (await client.get("/jobs")).json() == []
