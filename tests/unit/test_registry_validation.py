"""Model registry: the endpoint contract's rules, and the /models API of tutor-api.

The API runs in process on a migrated SQLite database with an in-memory job queue.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tutor_api.app import create_app
from tutor_api.config import TutorApiSettings
from tutorlab.contracts.endpoints import (
    TINKER_DEFAULT_BASE_URL,
    TINKER_DEFAULT_KEY_ENV,
    ModelEndpointCreate,
    ModelEndpointUpdate,
    ModelParams,
)
from tutorlab.dev.devstack import free_port
from tutorlab.migrations import upgrade
from tutorlab.service.runner import version_table

from tests.support import app_client, migrations_dir

TINKER_MODEL = "tinker://run-123/sampler_weights/final"


def error_fields(exc: ValidationError) -> list[str]:
    fields = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        fields.append(loc or error["msg"])
    return fields


def endpoint(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "local-qwen",
        "kind": "ollama",
        "base_url": "http://localhost:11434",
        "model": "qwen3:8b",
    }
    body.update(overrides)
    return body


# --- the contract --------------------------------------------------------------------------


def test_unknown_kind_is_rejected_naming_kind() -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpointCreate.model_validate(endpoint(kind="vllm"))
    assert error_fields(caught.value) == ["kind"]


@pytest.mark.parametrize(
    "url", ["ftp://host/v1", "localhost:11434", "file:///etc/passwd", "http://", "  ", "ws://h:1"]
)
def test_non_http_base_url_is_rejected_naming_base_url(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpointCreate.model_validate(endpoint(base_url=url))
    assert error_fields(caught.value) == ["base_url"]
    with pytest.raises(ValidationError) as caught:
        ModelEndpointUpdate(base_url=url)
    assert error_fields(caught.value) == ["base_url"]


def test_base_url_is_trimmed() -> None:
    created = ModelEndpointCreate.model_validate(endpoint(base_url=" https://vllm.lan:8000/v1/ "))
    assert created.base_url == "https://vllm.lan:8000/v1"


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_base_url_is_required_except_for_tinker(kind: str) -> None:
    body = endpoint(kind=kind)
    del body["base_url"]
    with pytest.raises(ValidationError, match="base_url: required"):
        ModelEndpointCreate.model_validate(body)


def test_tinker_defaults_to_tinkers_openai_compatible_api() -> None:
    created = ModelEndpointCreate(name="sft-v1", kind="tinker", model=TINKER_MODEL)
    assert created.base_url == TINKER_DEFAULT_BASE_URL
    assert created.base_url.startswith("https://") and created.base_url.endswith("/v1")
    assert created.api_key_env == TINKER_DEFAULT_KEY_ENV == "TINKER_API_KEY"
    custom = ModelEndpointCreate(
        name="sft-v2",
        kind="tinker",
        model=TINKER_MODEL,
        base_url="https://tinker.example/oai/api/v1",
        api_key_env="TEAM_TINKER_KEY",
    )
    assert custom.base_url == "https://tinker.example/oai/api/v1"
    assert custom.api_key_env == "TEAM_TINKER_KEY"


@pytest.mark.parametrize("model", ["qwen3:8b", "Qwen/Qwen3-8B", "https://x/sampler_weights/1"])
def test_tinker_model_must_be_a_tinker_path(model: str) -> None:
    with pytest.raises(ValidationError, match=r"tinker://"):
        ModelEndpointCreate(name="sft", kind="tinker", model=model)


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "TINKER_API_KEY", "_key", "k2"])
def test_api_key_env_accepts_variable_names(name: str) -> None:
    assert ModelEndpointCreate.model_validate(endpoint(api_key_env=name)).api_key_env == name


@pytest.mark.parametrize(
    "value",
    ["sk-abc123def456ghi789", "sk-proj-AbC-123", "Bearer abc", "1KEY", "MY-KEY", "", "key=1"],
)
def test_api_key_env_refuses_anything_but_a_variable_name(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpointCreate.model_validate(endpoint(api_key_env=value))
    assert error_fields(caught.value) == ["api_key_env"]
    assert "NAME" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        ModelEndpointUpdate(api_key_env=value)
    assert error_fields(caught.value) == ["api_key_env"]


def test_an_inline_api_key_field_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpointCreate.model_validate(endpoint(api_key="sk-abc123"))
    assert error_fields(caught.value) == ["api_key"]


@pytest.mark.parametrize("name", ["qwen3:8b", "sim-ollama", "a.b_c", "X", "m" * 128])
def test_name_pattern_accepts(name: str) -> None:
    assert ModelEndpointCreate.model_validate(endpoint(name=name)).name == name


@pytest.mark.parametrize("name", ["", "-x", ".hidden", "has space", "a/b", "m" * 129, "é"])
def test_name_pattern_rejects(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpointCreate.model_validate(endpoint(name=name))
    assert error_fields(caught.value) == ["name"]


def test_params_keep_extra_keys_and_drop_unset_ones() -> None:
    created = ModelEndpointCreate.model_validate(
        endpoint(params={"temperature": 0.2, "seed": 7, "repeat_penalty": 1.1, "mirostat": 2})
    )
    assert created.params.model_dump() == {
        "temperature": 0.2,
        "seed": 7,
        "repeat_penalty": 1.1,
        "mirostat": 2,
    }
    merged = created.params.merged({"temperature": 0.0, "num_ctx": 8192})
    assert merged.model_dump() == {
        "temperature": 0.0,
        "seed": 7,
        "repeat_penalty": 1.1,
        "mirostat": 2,
        "num_ctx": 8192,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"temperature": 9}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"top_p": 0}, "top_p"),
    ],
)
def test_params_out_of_range_name_the_param(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpointCreate.model_validate(endpoint(params=params))
    assert error_fields(caught.value) == [f"params.{field}"]
    with pytest.raises(ValidationError):
        ModelParams.model_validate(params)


def test_update_cannot_change_name_or_kind() -> None:
    for field, value in (("kind", "openai"), ("name", "other")):
        with pytest.raises(ValidationError) as caught:
            ModelEndpointUpdate.model_validate({field: value})
        assert error_fields(caught.value) == [field]


# --- the HTTP API --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tutor-db") / "template.db"
    upgrade(migrations_dir("tutor-api"), f"sqlite+aiosqlite:///{path}", version_table("tutor-api"))
    return path


@pytest.fixture
def db_path(migrated_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tutor-api.db"
    shutil.copy(migrated_template, path)
    return path


@pytest.fixture
async def api(db_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = TutorApiSettings(
        database_url=f"sqlite+aiosqlite:///{db_path}",
        api_key=None,
        model_max_attempts=1,
        model_attempt_timeout_s=5,
    )
    async with app_client(create_app(settings)) as client:
        yield client


async def test_register_answers_201_with_location_and_the_endpoint(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/models", json=endpoint(params={"temperature": 0.1, "top_k": 20}))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/models/local-qwen"
    body = response.json()
    assert body == {
        "name": "local-qwen",
        "kind": "ollama",
        "base_url": "http://localhost:11434",
        "model": "qwen3:8b",
        "params": {"temperature": 0.1, "top_k": 20},
        "max_concurrency": 8,
        "api_key_env": None,
        "metadata": {},
        "active": False,
    }
    assert (await api.get("/models/local-qwen")).json() == body
    assert (await api.get("/models")).json() == [body]


async def test_duplicate_name_is_409_naming_the_name(api: httpx.AsyncClient) -> None:
    assert (await api.post("/models", json=endpoint())).status_code == 201
    again = await api.post("/models", json=endpoint(kind="openai", base_url="http://x/v1"))
    assert again.status_code == 409
    assert "local-qwen" in again.json()["error"]
    # the first registration is untouched
    assert (await api.get("/models/local-qwen")).json()["kind"] == "ollama"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "vllm"}, "kind"),
        ({"base_url": "ftp://models.lan"}, "base_url"),
        ({"api_key_env": "sk-live-0123456789abcdef"}, "api_key_env"),
        ({"name": "has space"}, "name"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"params": {"temperature": -1}}, "params.temperature"),
        ({"api_key": "sk-0123"}, "api_key"),
        ({"kind": "tinker", "model": "qwen3:8b"}, "model"),
        ({"kind": "openai", "base_url": None}, "base_url"),
    ],
)
async def test_invalid_registration_is_422_naming_the_field(
    api: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/models", json=endpoint(**overrides))
    assert response.status_code == 422, response.text
    body = response.json()
    assert [d["field"] for d in body["detail"]] == [field]
    assert field in body["error"]
    assert (await api.get("/models")).json() == []


async def test_missing_fields_are_each_named(api: httpx.AsyncClient) -> None:
    response = await api.post("/models", json={"kind": "ollama"})
    assert response.status_code == 422
    assert sorted(d["field"] for d in response.json()["detail"]) == ["model", "name"]


async def test_tinker_registration_gets_its_defaults(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/models", json={"name": "sft", "kind": "tinker", "model": TINKER_MODEL}
    )
    assert response.status_code == 201, response.text
    assert response.json()["base_url"] == TINKER_DEFAULT_BASE_URL
    assert response.json()["api_key_env"] == "TINKER_API_KEY"


async def test_patch_changes_only_what_it_names(api: httpx.AsyncClient) -> None:
    await api.post("/models", json=endpoint(params={"temperature": 0.5}, metadata={"team": "a"}))
    response = await api.patch(
        "/models/local-qwen",
        json={"base_url": "http://gpu-box:11434/", "params": {"temperature": 0.0, "seed": 3}},
    )
    assert response.status_code == 200, response.text
    shown = (await api.get("/models/local-qwen")).json()
    assert shown["base_url"] == "http://gpu-box:11434"
    assert shown["params"] == {"temperature": 0.0, "seed": 3}
    assert shown["model"] == "qwen3:8b"
    assert shown["metadata"] == {"team": "a"}
    assert response.json() == shown


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"base_url": "gopher://x"}, "base_url"),
        ({"api_key_env": "sk-abc-123"}, "api_key_env"),
        ({"kind": "openai"}, "kind"),
        ({"base_url": None}, "base_url"),
        ({"model": None}, "model"),
        ({"max_concurrency": None}, "max_concurrency"),
    ],
)
async def test_invalid_patch_is_422_naming_the_field(
    api: httpx.AsyncClient, patch: dict[str, Any], field: str
) -> None:
    await api.post("/models", json=endpoint())
    response = await api.patch("/models/local-qwen", json=patch)
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["detail"]] == [field]
    assert (await api.get("/models/local-qwen")).json() == {
        **endpoint(),
        "params": {},
        "max_concurrency": 8,
        "api_key_env": None,
        "metadata": {},
        "active": False,
    }


async def test_patch_keeps_the_tinker_rules(api: httpx.AsyncClient) -> None:
    await api.post("/models", json={"name": "sft", "kind": "tinker", "model": TINKER_MODEL})
    bad = await api.patch("/models/sft", json={"model": "qwen3:8b"})
    assert bad.status_code == 422
    assert [d["field"] for d in bad.json()["detail"]] == ["model"]
    newer = "tinker://run-123/sampler_weights/step-200"
    good = await api.patch("/models/sft", json={"model": newer})
    assert good.status_code == 200 and good.json()["model"] == newer


async def test_unknown_names_are_404(api: httpx.AsyncClient) -> None:
    for response in (
        await api.get("/models/nope"),
        await api.patch("/models/nope", json={"model": "x"}),
        await api.delete("/models/nope"),
        await api.post("/models/nope/activate"),
        await api.post("/models/nope/probe"),
    ):
        assert response.status_code == 404
        assert "nope" in response.json()["error"]


async def test_delete_removes_the_endpoint(api: httpx.AsyncClient) -> None:
    await api.post("/models", json=endpoint())
    deleted = await api.delete("/models/local-qwen")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await api.get("/models/local-qwen")).status_code == 404
    assert (await api.get("/models")).json() == []
    assert (await api.delete("/models/local-qwen")).status_code == 404
    # the name is free again
    assert (await api.post("/models", json=endpoint())).status_code == 201


async def test_activate_makes_exactly_one_model_active(api: httpx.AsyncClient) -> None:
    await api.post("/models", json=endpoint(name="a"))
    await api.post("/models", json=endpoint(name="b"))
    first = await api.post("/models/a/activate")
    assert first.status_code == 200 and first.json()["active"] is True
    second = await api.post("/models/b/activate")
    assert second.json()["name"] == "b" and second.json()["active"] is True
    listed = {m["name"]: m["active"] for m in (await api.get("/models")).json()}
    assert listed == {"a": False, "b": True}


async def test_key_values_are_never_returned_or_stored(
    api: httpx.AsyncClient, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-0f1e2d3c4b5a69788796a5b4"
    monkeypatch.setenv("TUTORLAB_MODEL_KEY_MINE", secret)
    closed = f"http://127.0.0.1:{free_port()}"
    responses = [
        await api.post(
            "/models",
            json=endpoint(
                name="keyed", kind="openai", base_url=closed, api_key_env="TUTORLAB_MODEL_KEY_MINE"
            ),
        ),
        await api.get("/models"),
        await api.get("/models/keyed"),
        await api.patch("/models/keyed", json={"params": {"temperature": 0.3}}),
        await api.post("/models/keyed/activate"),
        # the probe reads the key and sends it; its failure must not echo it
        await api.post("/models/keyed/probe"),
        await api.post("/chat", json={"message": "What is 2 + 2?", "model": "keyed"}),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 200, 502]
    assert responses[1].json()[0]["api_key_env"] == "TUTORLAB_MODEL_KEY_MINE"
    assert responses[5].json()["ok"] is False
    for response in responses:
        assert secret not in response.text
        assert secret not in str(response.headers)

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT * FROM model_endpoints").fetchall()
    assert len(rows) == 1 and "TUTORLAB_MODEL_KEY_MINE" in repr(rows)
    assert secret not in repr(rows)
    for file in db_path.parent.glob(f"{db_path.name}*"):  # the database and its WAL
        assert secret.encode() not in file.read_bytes()
