"""Issue #11.3: a model endpoint's key comes only from an allowed variable, and no route takes a
model registration that skipped the registry's checks (every service in process, SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tutor_api.deps import AppResources
from tutor_api.registry import Registry
from tutorlab.contracts.endpoints import ModelEndpointCreate, key_env_allowed
from tutorlab.registry_client import RegistryClient, RegistryError
from tutorlab.settings import ServiceSettings

from tests.unit.services_support import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}


def endpoint(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "openai",
        "base_url": "https://collector.example/v1",
        "model": "m",
        **fields,
    }


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("TINKER_API_KEY", True),
        ("OPENAI_API_KEY", True),
        ("TUTORLAB_MODEL_KEY_TEAM_A", True),
        ("TUTORLAB_API_KEY", False),
        ("DATABASE_URL", False),
        ("AWS_SECRET_ACCESS_KEY", False),
        ("TUTORLAB_MODEL_KEY", False),  # the prefix needs something after it
    ],
)
def test_default_allow_list(name: str, allowed: bool) -> None:
    assert key_env_allowed(name, ServiceSettings().model_key_envs) is allowed


def test_allow_list_setting_is_comma_separated_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTORLAB_MODEL_KEY_ENVS", "TEAM_KEY, VENDOR_*")
    assert ServiceSettings().model_key_envs == ["TEAM_KEY", "VENDOR_*"]
    monkeypatch.setenv("TUTORLAB_MODEL_KEY_ENVS", "TEAM-KEY")
    with pytest.raises(ValidationError, match="model_key_envs"):
        ServiceSettings()


async def test_registering_a_key_variable_off_the_list_is_a_422(
    service_client: Callable[..., Any],
) -> None:
    async with service_client("tutor-api") as (_, client):
        refused = await client.post(
            "/models", json=endpoint("leak", api_key_env="DATABASE_URL"), headers=AUTH
        )
        assert refused.status_code == 422, refused.text
        assert [d["field"] for d in refused.json()["detail"]] == ["api_key_env"]
        assert "DATABASE_URL" in refused.json()["error"]
        assert (await client.get("/models/leak")).status_code == 404

        for name, key_env in (("a", "OPENAI_API_KEY"), ("b", "TUTORLAB_MODEL_KEY_TEAM")):
            ok = await client.post(
                "/models", json=endpoint(name, api_key_env=key_env), headers=AUTH
            )
            assert ok.status_code == 201, ok.text

        patched = await client.patch("/models/a", json={"api_key_env": "HOME"}, headers=AUTH)
        assert patched.status_code == 422, patched.text
        assert [d["field"] for d in patched.json()["detail"]] == ["api_key_env"]
        assert (await client.get("/models/a")).json()["api_key_env"] == "OPENAI_API_KEY"


async def test_the_operator_sets_the_list(service_client: Callable[..., Any]) -> None:
    async with service_client("tutor-api", model_key_envs=["SCHOOL_KEY"]) as (_, client):
        school = await client.post(
            "/models", json=endpoint("school", api_key_env="SCHOOL_KEY"), headers=AUTH
        )
        openai = await client.post(
            "/models", json=endpoint("vendor", api_key_env="OPENAI_API_KEY"), headers=AUTH
        )
    assert school.status_code == 201, school.text
    assert openai.status_code == 422 and "SCHOOL_KEY" in openai.json()["error"]


async def test_a_model_registered_before_the_list_is_refused_where_it_is_used(
    service_client: Callable[..., Any],
) -> None:
    """A row already in the registry that names another variable: tutor-api will not build its
    client (409), and no other service takes it from the registry (422)."""
    async with service_client("tutor-api") as (app, client):
        resources: AppResources = app.state.service.resources
        permissive = Registry(resources.registry.sessions, key_envs=["*"])
        await permissive.create(
            ModelEndpointCreate.model_validate(endpoint("old", api_key_env="DATABASE_URL"))
        )
        chat = await client.post("/chat", json={"message": "hi", "model": "old"}, headers=AUTH)
        assert chat.status_code == 409, chat.text
        assert "api_key_env" in chat.json()["error"]
        probe = await client.post("/models/old/probe", headers=AUTH)
        assert probe.status_code == 409, probe.text

        registry = RegistryClient(
            "http://tutor-api", api_key=KEY, transport=httpx.ASGITransport(app=app)
        )
        try:
            with pytest.raises(RegistryError) as caught:
                await registry.get_model("old")
        finally:
            await registry.aclose()
    assert caught.value.status_code == 422
    assert "api_key_env" in str(caught.value)


@pytest.mark.parametrize(
    ("service", "kind", "params"),
    [
        (
            "eval-service",
            "benchmark",
            {
                "model": "victim",
                "suite": "quick",
                "registered": {
                    "name": "victim",
                    "kind": "openai",
                    "base_url": "https://collector.example/v1",
                    "model": "m",
                    "api_key_env": "TINKER_API_KEY",
                },
            },
        ),
        ("data-service", "download_dataset", {"name": "gsm8k", "source": "mirror"}),
        ("data-service", "build_teacher", {"teacher": "victim"}),
        ("trainer-service", "training", {"config": {}}),
    ],
)
async def test_post_jobs_refuses_kinds_that_have_their_own_route(
    service_client: Callable[..., Any], service: str, kind: str, params: dict[str, Any]
) -> None:
    """POST /jobs took a benchmark with a ``registered`` endpoint that /benchmarks refuses: the
    key of an allowed variable went to any URL. A kind with a route is submitted there only."""
    async with service_client(service) as (_, client):
        response = await client.post("/jobs", json={"kind": kind, "params": params}, headers=AUTH)
        assert response.status_code == 422, response.text
        assert response.json()["error"].startswith("kind: ")
        assert "POST /" in response.json()["error"]
        assert (await client.get("/jobs")).json() == []
        kinds = {k["kind"]: k["submit"] for k in (await client.get("/jobs/kinds")).json()}
    assert kinds[kind] != "POST /jobs"


async def test_kinds_without_a_route_still_go_through_post_jobs(
    service_client: Callable[..., Any],
) -> None:
    async with service_client("data-service") as (_, client):
        kinds = {k["kind"]: k["submit"] for k in (await client.get("/jobs/kinds")).json()}
        response = await client.post(
            "/jobs",
            json={"kind": "tag_dataset", "params": {"name": "gsm8k", "split": "test"}},
            headers=AUTH,
        )
    assert kinds["tag_dataset"] == "POST /jobs"
    assert response.status_code == 202, response.text
