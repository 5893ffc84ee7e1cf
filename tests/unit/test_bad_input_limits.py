"""Issue #11.6 and #11.8 (sizes): input that used to be a 500 (an empty Idempotency-Key, a huge
offset, JSON nested 1,000 deep, a 5,000-digit number, a path that is not UTF-8) is a 4xx naming
its field or line; every body has a size cap (413), and /chat's history a count and size cap."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from data_service.config import DataServiceSettings
from fastapi import FastAPI
from pydantic import ValidationError
from tutorlab.contracts.chat import HISTORY_MAX_CHARS, HISTORY_MAX_TURNS, MESSAGE_MAX_CHARS

from tests.unit.services_support import KEY, MUTATING, SERVICES, routes

AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {**AUTH, "Content-Type": "application/json"}
GOOD_LINE = {
    "prompt": "Student: What is 3 + 4?\nMode: hint",
    "response": "What do you get if you count on 4 from 3?",
    "grade": 1,
    "topic_tags": ["arithmetic.addition_subtraction"],
}
DEEP = "[" * 1000 + "]" * 1000


def fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["detail"]]


# --- Idempotency-Key -------------------------------------------------------------------------


def submit_routes(app: FastAPI) -> list[str]:
    """Every route that takes an Idempotency-Key (the ones that submit jobs)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"].lower() for p in operation.get("parameters", [])}
            if method == "post" and "idempotency-key" in headers:
                found.append(path)
    return found


@pytest.mark.parametrize("name", ["eval-service", "data-service", "trainer-service"])
async def test_an_empty_idempotency_key_is_a_422_naming_the_header(
    name: str, service_client: Callable[..., Any]
) -> None:
    """An empty key was stored once, and the next request with one hit the unique index: 500."""
    async with service_client(name) as (app, client):
        paths = submit_routes(app)
        assert "/jobs" in paths and len(paths) >= 2, paths
        for path in paths:
            for _ in range(2):
                response = await client.post(path, json={}, headers={**AUTH, "Idempotency-Key": ""})
                assert response.status_code == 422, (path, response.text)
                assert "header.Idempotency-Key" in fields(response), (path, response.text)
        assert (await client.get("/jobs")).json() == []


async def test_a_reused_idempotency_key_answers_the_same_job_or_409(
    service_client: Callable[..., Any],
) -> None:
    body = {"name": "gsm8k", "source": "mirror"}
    async with service_client("data-service") as (_, client):
        key = {**AUTH, "Idempotency-Key": "import-1"}
        first = await client.post("/datasets/download", json=body, headers=key)
        again = await client.post("/datasets/download", json=body, headers=key)
        other = await client.post("/datasets/download", json={**body, "source": "hub"}, headers=key)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["error"]


# --- list parameters -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_integer_query_parameter_is_bounded(
    name: str, service_client: Callable[..., Any]
) -> None:
    """A 2**64 offset reached the database and came back as an OverflowError (500)."""
    async with service_client(name) as (app, client):
        checked = 0
        for path, operations in app.openapi()["paths"].items():
            for parameter in operations.get("get", {}).get("parameters", []):
                schema = parameter.get("schema", {})
                types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
                if parameter["in"] != "query" or not types & {"integer", "number"}:
                    continue
                bounds = [schema, *schema.get("anyOf", [])]
                assert any("maximum" in s for s in bounds), (path, parameter)
                url = path.replace("{", "").replace("}", "")
                response = await client.get(url, params={parameter["name"]: 2**64})
                assert response.status_code == 422, (path, parameter["name"], response.text)
                assert f"query.{parameter['name']}" in fields(response)
                checked += 1
    if name != "tutor-api":  # tutor-api lists no page of anything
        assert checked >= 2


# --- JSON the parser cannot hold -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_json_nested_1000_deep_is_a_422_naming_the_body(
    name: str, service_client: Callable[..., Any]
) -> None:
    async with service_client(name) as (app, client):
        with_body = [(m, p) for m, p, has_body in routes(app, MUTATING) if has_body]
        for method, path in with_body:
            nested = '{"x": ' + DEEP + "}"
            response = await client.request(method, path, content=nested, headers=JSON)
            assert response.status_code == 422, (method, path, response.text)
            assert fields(response)[0] == "body", (method, path, response.text)


async def test_a_training_line_nested_1000_deep_is_that_lines_problem(
    service_client: Callable[..., Any],
) -> None:
    jsonl = "\n".join(
        [
            json.dumps(GOOD_LINE),
            json.dumps({**GOOD_LINE, "metadata": "m"})[:-1] + ', "x": ' + DEEP + "}",
            '{"prompt": "p", "response": "r", "metadata": ' + "[" * 70 + "]" * 70 + "}",
        ]
    )
    async with service_client("data-service") as (_, client):
        report = await client.post(
            "/training-sets/validate",
            content=jsonl.encode(),
            headers={**AUTH, "Content-Type": "application/x-ndjson"},
        )
        upload = await client.post(
            "/training-sets",
            files={"file": ("deep.jsonl", jsonl.encode(), "application/jsonl")},
            data={"name": "deep", "require_references": "false"},
            headers=AUTH,
        )
    assert report.status_code == 200, report.text
    problems = {(p["line"], p["code"]) for p in report.json()["problems"]}
    assert problems == {(2, "too_deep"), (3, "too_deep")}, report.text
    assert upload.status_code == 422, upload.text
    assert "line 2" in upload.json()["error"] and "nested" in upload.json()["error"]


async def test_a_number_past_the_int_string_limit_names_its_field(
    service_client: Callable[..., Any],
) -> None:
    digits = "9" * 5000
    body = '{"task": "gsm8k", "items": [{"response": "4", "gold": 4}, {"response": "x", "gold": '
    async with service_client("eval-service") as (_, client):
        response = await client.post("/score", content=body + digits + "}]}", headers=JSON)
        as_text = await client.post(
            "/score",
            json={"task": "gsm8k", "items": [{"response": f"#### {digits}", "gold": digits}]},
            headers=AUTH,
        )
    assert response.status_code == 422, response.text
    assert fields(response) == ["items.1.gold"]
    assert "5000 digits" in response.json()["error"]
    assert as_text.status_code == 200, as_text.text


# --- paths that are not UTF-8 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_path",
    [b'"\\udcff.jsonl"', b'"\xff\xfe.jsonl"', b'"a\\u0000b.jsonl"', b'"\\ud800\\udc00"'],
)
async def test_a_path_that_is_not_utf8_is_a_422(
    service_client: Callable[..., Any], raw_path: bytes
) -> None:
    async with service_client("data-service") as (_, client):
        for route, extra in (
            ("/training-sets/validate", b""),
            ("/training-sets", b', "name": "n"'),
        ):
            body = b'{"path": ' + raw_path + extra + b"}"
            response = await client.post(route, content=body, headers=JSON)
            assert response.status_code in (404, 422), (route, raw_path, response.text)
            if response.status_code == 422:
                assert fields(response)[0] in ("body", "path"), (route, response.text)


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_a_nul_in_the_path_or_query_is_a_422_naming_where(
    name: str, service_client: Callable[..., Any]
) -> None:
    """No id or filter holds a NUL, and PostgreSQL refuses one in a text parameter: every
    lookup that reached it was a 500 there (GET /jobs/a%00b, GET /jobs?kind=a%00b)."""
    async with service_client(name) as (app, client):
        checked = 0
        for path, operations in app.openapi()["paths"].items():
            for parameter in operations.get("get", {}).get("parameters", []):
                url = path
                for other in operations["get"]["parameters"]:
                    if other["in"] == "path":
                        url = url.replace("{" + other["name"] + "}", "a%00b")
                if parameter["in"] == "path":
                    response = await client.get(url)
                    expected = "path"
                elif parameter["in"] == "query" and parameter["schema"].get("type") != "integer":
                    response = await client.get(
                        url.replace("%00", ""), params={parameter["name"]: "a\x00b"}
                    )
                    expected = f"query.{parameter['name']}"
                else:
                    continue
                assert response.status_code == 422, (url, parameter["name"], response.text)
                assert fields(response) == [expected], (url, response.text)
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_a_nul_in_a_json_bodys_string_is_a_422_naming_the_field(
    name: str, service_client: Callable[..., Any]
) -> None:
    """A body's strings are stored (names, URLs, job params): PostgreSQL refuses a NUL in a
    text column, so every mutating route answers 422 naming the field, nested or a key, before
    its own checks run (tests/integration/test_nul_in_bodies.py runs them on PostgreSQL)."""
    bodies = [
        ({"name": "a\x00b"}, "name"),
        ({"params": {"stop": ["x", "y\x00"]}}, "params.stop.1"),
        ({"config": {"b\x00ad": 1}}, "config.bad"),
    ]
    async with service_client(name) as (app, client):
        checked = 0
        for method, path, _ in routes(app, ("POST", "PUT", "PATCH")):
            for body, expected in bodies:
                response = await client.request(method, path, json=body, headers=AUTH)
                assert response.status_code == 422, (method, path, response.text)
                assert fields(response) == [expected], (method, path, response.text)
                assert response.json()["detail"][0]["msg"] == "contains a NUL character"
            checked += 1
        # the escape spelled out, not a NUL: the route's own checks answer, never this one
        response = await client.post(
            "/healthz" if name == "tutor-api" else "/jobs",
            content=b'{"kind": "a\\\\u0000b"}',
            headers=JSON,
        )
        assert "NUL" not in response.text, response.text
    assert checked >= 1


# --- body size --------------------------------------------------------------------------------


async def chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 1024):
        yield b" " * 1024


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_a_body_over_the_cap_is_a_413(name: str, service_client: Callable[..., Any]) -> None:
    caps = {
        "max_body_bytes": 4096,
        **({"max_upload_bytes": 2048} if name == "data-service" else {}),
    }
    async with service_client(name, **caps) as (app, client):
        method, path, _ = next(r for r in routes(app, ("POST",)) if r[2])
        declared = await client.request(method, path, content=b" " * 8192, headers=JSON)
        streamed = await client.request(method, path, content=chunks(8192), headers=JSON)
        small = await client.request(method, path, content=b"{}", headers=JSON)
    for response in (declared, streamed):
        assert response.status_code == 413, (path, response.text)
        assert response.json()["error"].startswith("body: larger than the 4096-byte limit")
        assert "MAX_BODY_BYTES" in response.json()["error"]
    assert small.status_code != 413


def test_data_service_bodies_fit_its_largest_upload() -> None:
    settings = DataServiceSettings()
    assert settings.max_body_bytes > settings.max_upload_bytes >= 64 * 1024 * 1024
    with pytest.raises(ValidationError, match="max_upload_bytes"):
        DataServiceSettings(max_upload_bytes=128 * 1024 * 1024)


async def test_an_upload_at_the_upload_limit_passes_the_body_cap(
    service_client: Callable[..., Any],
) -> None:
    line = json.dumps(GOOD_LINE).encode() + b"\n"
    data = line * (64 * 1024 // len(line))
    limits = {"max_upload_bytes": len(data) + 1024, "max_body_bytes": len(data) + 2048}
    async with service_client("data-service", **limits) as (_, client):
        fits = await client.post(
            "/training-sets/validate", files={"file": ("a.jsonl", data)}, headers=AUTH
        )
        over = await client.post(
            "/training-sets/validate", files={"file": ("a.jsonl", data + line * 100)}, headers=AUTH
        )
    assert fits.status_code == 200, fits.text
    assert over.status_code == 413


# --- /chat history ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "field"),
    [
        ([{"role": "user", "content": "hi"}] * (HISTORY_MAX_TURNS + 1), "history"),
        ([{"role": "user", "content": "x" * (MESSAGE_MAX_CHARS + 1)}], "history.0.content"),
        (
            [{"role": "user", "content": "x" * MESSAGE_MAX_CHARS}]
            * (HISTORY_MAX_CHARS // MESSAGE_MAX_CHARS + 1),
            "history",
        ),
    ],
)
async def test_chat_history_is_capped_in_count_and_size(
    service_client: Callable[..., Any], history: list[dict[str, str]], field: str
) -> None:
    async with service_client("tutor-api") as (_, client):
        response = await client.post(
            "/chat", json={"message": "What is 3 + 4?", "history": history}, headers=AUTH
        )
    assert response.status_code == 422, response.text
    assert fields(response) == [field]
