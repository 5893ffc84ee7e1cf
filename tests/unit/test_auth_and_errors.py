"""API key on every mutating endpoint of every service, reads left open, keys never leaked,
and bad input never a 500. Each service runs in process on a migrated SQLite database."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tutorlab.logging import configure_logging, job_id_var

from tests.unit.services_support import KEY, MUTATING, SERVICES, routes


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_mutating_endpoint_needs_the_bearer_key(
    name: str, service_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Response] = []
    async with service_client(name) as (app, client):
        mutating = routes(app, MUTATING)
        assert mutating, f"{name} has no mutating endpoint"
        for method, path, _ in mutating:
            for headers in (
                {},
                {"Authorization": "Bearer wrong-key"},
                {"Authorization": f"Basic {KEY}"},
                {"Authorization": KEY},
            ):
                refused = await client.request(method, path, json={}, headers=headers)
                seen.append(refused)
                assert refused.status_code == 401, (method, path, headers, refused.text)
                assert refused.headers["www-authenticate"] == "Bearer"
                assert "Authorization: Bearer" in refused.json()["error"]
            allowed = await client.request(
                method, path, json={}, headers={"Authorization": f"Bearer {KEY}"}
            )
            seen.append(allowed)
            assert allowed.status_code != 401, (method, path, allowed.text)
            assert allowed.status_code < 500, (method, path, allowed.text)
    for response in seen:
        assert KEY not in response.text
        assert KEY not in str(response.headers)
    assert KEY not in caplog.text


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_reads_stay_open_with_a_key_set(
    name: str, service_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with service_client(name) as (app, client):
        reads = routes(app, ("GET",))
        paths = {path for _, path, _ in reads}
        assert {"/healthz", "/readyz"} <= paths
        for _, path, _ in reads:
            response = await client.get(path)
            assert response.status_code != 401, (path, response.text)
            assert response.status_code < 500, (path, response.text)
            assert KEY not in response.text
        assert (await client.get("/healthz")).json()["service"] == name
    assert KEY not in caplog.text


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_without_a_key_configured_nothing_asks_for_one(
    name: str, service_client: Callable[..., Any]
) -> None:
    async with service_client(name, api_key=None) as (app, client):
        for method, path, _ in routes(app, MUTATING):
            response = await client.request(method, path, json={})
            assert response.status_code != 401, (method, path, response.text)
            assert response.status_code < 500, (method, path, response.text)


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_malformed_json_is_a_422_naming_the_body(
    name: str, service_client: Callable[..., Any]
) -> None:
    auth = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with service_client(name) as (app, client):
        with_body = [(m, p) for m, p, has_body in routes(app, MUTATING) if has_body]
        assert with_body, f"{name} has no endpoint that takes a JSON body"
        for method, path in with_body:
            for content in (b'{"name": "x",', b"{'single': 'quotes'}", b"\xff\xfe"):
                response = await client.request(method, path, content=content, headers=auth)
                assert response.status_code == 422, (method, path, content, response.text)
                body = response.json()
                assert body["detail"][0]["field"] == "body"
                assert "JSON" in body["error"]
            wrong_shape = await client.request(method, path, content=b"[1, 2]", headers=auth)
            assert wrong_shape.status_code == 422, (method, path, wrong_shape.text)


async def test_bad_field_errors_name_the_field(service_client: Callable[..., Any]) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    async with service_client("tutor-api") as (_, client):
        response = await client.post(
            "/chat", json={"message": "", "mode": "lecture", "grade": 13}, headers=auth
        )
    assert response.status_code == 422
    assert sorted(d["field"] for d in response.json()["detail"]) == ["grade", "message", "mode"]


# --- logs ----------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def logged(json_lines: bool, emit: Callable[[logging.Logger], None]) -> str:
    stream = io.StringIO()
    configure_logging("tutor-api", json_lines=json_lines, secrets=[KEY])
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    emit(logging.getLogger("tutorlab.test"))
    return stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("json_lines", [False, True])
def test_configured_logs_mask_the_key_in_messages_and_tracebacks(json_lines: bool) -> None:
    def emit(log: logging.Logger) -> None:
        log.warning("calling with key %s", KEY)
        log.info(f"header was Bearer {KEY}")
        try:
            raise RuntimeError(f"upstream refused key {KEY}")
        except RuntimeError:
            log.exception("request failed")

    text = logged(json_lines, emit)
    assert KEY not in text
    assert text.count("***") >= 3
    assert "RuntimeError: upstream refused key ***" in text.replace("\\n", "\n")


@pytest.mark.usefixtures("restore_logging")
def test_json_log_lines_carry_service_and_job_id() -> None:
    def emit(log: logging.Logger) -> None:
        token = job_id_var.set("bench_0123")
        try:
            log.info("job step %d", 3)
        finally:
            job_id_var.reset(token)
        log.info("no job")

    lines = [json.loads(line) for line in logged(True, emit).splitlines()]
    assert [(r["message"], r["service"], r["job_id"]) for r in lines] == [
        ("job step 3", "tutor-api", "bench_0123"),
        ("no job", "tutor-api", None),
    ]
    assert {"ts", "level", "logger"} <= set(lines[0])
