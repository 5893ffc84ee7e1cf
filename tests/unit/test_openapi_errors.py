"""What each service's OpenAPI document says about errors is what it sends: one validation shape
for every 422 (FastAPI's own, a route's own, /score's, the simulator controls'), the API key's 401
on every operation that takes it, and ``stream`` on /chat a JSON boolean only.
(tests/integration/test_openapi_fuzz.py fuzzes every operation against the documents.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tutorlab.service.responses import FieldError, ValidationErrorBody
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.support import app_client
from tests.unit.services_support import KEY, SERVICES

AUTH = {"Authorization": f"Bearer {KEY}"}
FIELD_KEYS = set(FieldError.model_fields)


def assert_validation_shape(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 422 in the documented shape, with an entry for ``field``; that entry."""
    assert response.status_code == 422, response.text
    body = response.json()
    ValidationErrorBody.model_validate(body)
    for entry in body["detail"]:
        assert set(entry) >= FIELD_KEYS, entry
        FieldError.model_validate(entry)
    named = [entry for entry in body["detail"] if entry["field"] == field]
    assert named, (field, body)
    assert field in body["error"]
    return named[0]


@pytest.mark.parametrize("stream", ["yes", "true", 1, 0, None, "false"])
async def test_chat_stream_is_a_json_boolean_only(
    stream: Any, service_client: Callable[..., Any]
) -> None:
    async with service_client("tutor-api") as (_, client):
        response = await client.post(
            "/chat", json={"message": "What is 3 + 4?", "stream": stream}, headers=AUTH
        )
    entry = assert_validation_shape(response, "stream")
    assert entry["loc"] == ["body", "stream"]
    assert entry["type"] == "bool_type"


async def test_score_422_has_the_shape_of_every_other_422(
    service_client: Callable[..., Any],
) -> None:
    async with service_client("eval-service") as (_, client):
        fastapi_own = await client.post(
            "/score", json={"task": "gsm8k", "items": "not a list"}, headers=AUTH
        )
        bad_items = await client.post(
            "/score",
            json={"task": "gsm8k", "items": [{"gold": "7"}, {"response": "7", "gold": []}]},
            headers=AUTH,
        )
    own = assert_validation_shape(fastapi_own, "items")
    missing = assert_validation_shape(bad_items, "items.0.response")
    wrong = assert_validation_shape(bad_items, "items.1.gold")
    assert set(missing) == set(wrong) == set(own)
    assert missing["loc"] == ["body", "items", 0, "response"]
    assert wrong["loc"] == ["body", "items", 1, "gold"]
    assert missing["type"] == wrong["type"] == "value_error"


async def test_a_routes_own_422_names_its_field_in_detail(
    service_client: Callable[..., Any],
) -> None:
    async with service_client("data-service") as (_, client):
        response = await client.post(
            "/jobs", json={"kind": "no_such_kind", "params": {}}, headers=AUTH
        )
    entry = assert_validation_shape(response, "kind")
    assert entry["loc"] == ["kind"]
    assert "no_such_kind" in entry["msg"]


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_documents_name_the_common_error_answers(
    name: str, service_client: Callable[..., Any]
) -> None:
    async with service_client(name) as (app, client):
        document = (await client.get("/openapi.json")).json()
    assert document == app.openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 model, which no service sends
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    secured = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            where = f"{method.upper()} {path}"
            if method != "get":
                assert operation.get("security") == [{"ApiKey": []}], where
            if operation.get("security"):
                secured += 1
                assert answers["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorBody"
                }, where
            if "requestBody" in operation:
                assert {"413", "422"} <= set(answers), where
            if "422" in answers:
                assert answers["422"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ValidationErrorBody"
                }, where
            if "{" in path:  # an id or a name that may not exist
                assert "404" in answers, where
    assert secured > 0


async def test_simulator_controls_answer_the_services_422() -> None:
    app = create_sim_app(SimConfig(dataset_mirror=None))  # type: ignore[arg-type]
    async with app_client(app) as client:
        response = await client.put("/sim/config", json={"accuracy": 2, "no_such": 1})
        document = (await client.get("/openapi.json")).json()
    assert_validation_shape(response, "accuracy")
    assert_validation_shape(response, "no_such")
    assert {"401", "413", "422"} <= set(document["paths"]["/sim/config"]["put"]["responses"])
    assert "requestBody" in document["paths"]["/v1/chat/completions"]["post"]
