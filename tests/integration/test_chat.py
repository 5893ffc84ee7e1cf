"""POST /chat and the probe, through tutor-api in process, against the model simulator served
for real (uvicorn on a free port, in a thread), registered once as Ollama and once as OpenAI."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tutor_api.app import create_app
from tutor_api.config import TutorApiSettings
from tutorlab.dev.devstack import free_port
from tutorlab.migrations import upgrade
from tutorlab.service.runner import version_table
from tutorlab.tutoring import PROMPT_VERSION
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.support import app_client, migrations_dir, serve_in_thread

pytestmark = pytest.mark.integration

KINDS = ("ollama", "openai")
MODES = ("hint", "explain", "check", "solve")
#: the simulator's behaviour in these tests: every tutoring turn ends with a question
SIM_DEFAULTS: dict[str, Any] = {
    "accuracy": 1.0,
    "tutoring_question_rate": 1.0,
    "tutoring_leak_rate": 0.0,
    "error_rate": 0.0,
    "stream_error_rate": 0.0,
    "rate_limit_rate": 0.0,
    "latency_ms": 0.0,
}


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    """The simulator as a real HTTP server (no dataset mirror: it solves plain arithmetic)."""
    config = SimConfig(host="127.0.0.1", dataset_mirror=None, **SIM_DEFAULTS)
    with serve_in_thread(create_sim_app(config), "tutorlab-sim", lifespan="off") as url:
        yield url


@pytest.fixture
async def sim(sim_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A control client for the simulator; its config and counters are reset around each test."""
    async with httpx.AsyncClient(base_url=sim_url, timeout=10) as client:
        (await client.put("/sim/config", json=SIM_DEFAULTS)).raise_for_status()
        (await client.delete("/sim/stats")).raise_for_status()
        yield client
        (await client.put("/sim/config", json=SIM_DEFAULTS)).raise_for_status()


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tutor-db") / "template.db"
    upgrade(migrations_dir("tutor-api"), f"sqlite+aiosqlite:///{path}", version_table("tutor-api"))
    return path


@pytest.fixture
async def tutor(migrated_template: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    db = tmp_path / "tutor-api.db"
    shutil.copy(migrated_template, db)
    settings = TutorApiSettings(
        database_url=f"sqlite+aiosqlite:///{db}",
        api_key=None,
        # small retry budget so the failure tests stay fast; the behaviour is the same
        model_max_attempts=3,
        model_retry_base_delay_s=0.01,
        model_attempt_timeout_s=10,
        model_deadline_s=20,
    )
    async with app_client(create_app(settings), timeout=30) as client:
        yield client


def base_url(sim_url: str, kind: str) -> str:
    return sim_url + "/v1" if kind == "openai" else sim_url


async def register(client: httpx.AsyncClient, name: str, kind: str, url: str) -> None:
    body = {"name": name, "kind": kind, "base_url": url, "model": "qwen3:8b"}
    response = await client.post("/models", json=body)
    assert response.status_code == 201, response.text


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@pytest.mark.parametrize("kind", KINDS)
async def test_chat_in_every_mode(
    kind: str, tutor: httpx.AsyncClient, sim: httpx.AsyncClient, sim_url: str
) -> None:
    await register(tutor, "sim", kind, base_url(sim_url, kind))
    replies = {}
    for mode in MODES:
        response = await tutor.post(
            "/chat", json={"message": "What is 12 + 30?", "mode": mode, "grade": 3, "model": "sim"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model"] == "sim"
        assert body["mode"] == mode
        assert body["grade"] == 3
        assert body["prompt_version"] == PROMPT_VERSION
        assert body["latency_ms"] >= 0
        assert body["finish_reason"] == "stop"
        usage = body["usage"]
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        replies[mode] = body["reply"]
    # the policy's mode reached the model: a worked answer only when asked to solve
    assert "\\boxed{42}" in replies["solve"]
    for mode in ("hint", "explain", "check"):
        assert replies[mode].rstrip().endswith("?"), replies[mode]
        assert "42" not in replies[mode]
    assert len(set(replies.values())) == len(MODES)
    stats = (await sim.get("/sim/stats")).json()
    endpoint = "POST /api/chat" if kind == "ollama" else "POST /v1/chat/completions"
    assert stats["by_endpoint"] == {endpoint: len(MODES)}
    assert stats["by_outcome"] == {"tutoring": 3, "generic": 1}


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_sends_deltas_then_done_equal_to_the_plain_reply(
    kind: str, tutor: httpx.AsyncClient, sim: httpx.AsyncClient, sim_url: str
) -> None:
    await register(tutor, "sim", kind, base_url(sim_url, kind))
    request = {"message": "What is 7 * 6?", "mode": "solve", "grade": 8, "model": "sim"}
    plain = (await tutor.post("/chat", json=request)).json()

    streamed = await tutor.post("/chat", json={**request, "stream": True})
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = sse_events(streamed.text)
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) > 1 and set(names[:-1]) == {"delta"}
    done = events[-1][1]
    assert "".join(deltas) == done["reply"] == plain["reply"]
    assert "\\boxed{42}" in done["reply"]
    for field in ("model", "mode", "grade", "prompt_version", "reasoning", "finish_reason"):
        assert done[field] == plain[field], field
    assert done["usage"]["completion_tokens"] == plain["usage"]["completion_tokens"]
    assert done["latency_ms"] >= 0


async def test_active_model_is_used_when_none_is_named(
    tutor: httpx.AsyncClient, sim: httpx.AsyncClient, sim_url: str
) -> None:
    await register(tutor, "sim-a", "ollama", sim_url)
    no_active = await tutor.post("/chat", json={"message": "What is 1 + 1?"})
    assert no_active.status_code == 409
    assert "activate" in no_active.json()["error"]

    await tutor.post("/models/sim-a/activate")
    response = await tutor.post("/chat", json={"message": "What is 1 + 1?", "mode": "solve"})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "sim-a"


async def test_unknown_model_is_404(tutor: httpx.AsyncClient) -> None:
    for stream in (False, True):
        response = await tutor.post(
            "/chat", json={"message": "hi", "model": "not-registered", "stream": stream}
        )
        assert response.status_code == 404
        assert "not-registered" in response.json()["error"]


@pytest.mark.parametrize("kind", KINDS)
async def test_unreachable_endpoint_is_502_naming_endpoint_and_cause(
    kind: str, tutor: httpx.AsyncClient
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    await register(tutor, "gone", kind, base_url(closed, kind))
    for stream in (False, True):
        response = await tutor.post(
            "/chat", json={"message": "What is 2 + 2?", "model": "gone", "stream": stream}
        )
        assert response.status_code == 502, response.text
        body = response.json()
        assert body["endpoint"] == "gone"
        assert "'gone'" in body["error"]
        assert "ConnectError" in body["cause"] and closed in body["cause"]
        assert "gave up after 3 attempts" in body["cause"]


@pytest.mark.parametrize("kind", KINDS)
async def test_server_errors_are_retried_then_502(
    kind: str, tutor: httpx.AsyncClient, sim: httpx.AsyncClient, sim_url: str
) -> None:
    await register(tutor, "flaky", kind, base_url(sim_url, kind))
    (await sim.put("/sim/config", json={"error_rate": 1.0})).raise_for_status()
    response = await tutor.post("/chat", json={"message": "What is 2 + 2?", "model": "flaky"})
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["endpoint"] == "flaky"
    assert "HTTP 500" in body["cause"] and "simulated server error" in body["cause"]
    assert "gave up after 3 attempts" in body["cause"]
    assert (await sim.get("/sim/stats")).json()["by_fault"]["error"] == 3

    streamed = await tutor.post(
        "/chat", json={"message": "What is 2 + 2?", "model": "flaky", "stream": True}
    )
    assert streamed.status_code == 502, streamed.text
    assert "HTTP 500" in streamed.json()["cause"]


async def test_error_mid_stream_ends_with_an_error_event(
    tutor: httpx.AsyncClient, sim: httpx.AsyncClient, sim_url: str
) -> None:
    await register(tutor, "cut", "ollama", sim_url)
    (await sim.put("/sim/config", json={"stream_error_rate": 1.0})).raise_for_status()
    response = await tutor.post(
        "/chat", json={"message": "What is 7 * 6?", "mode": "solve", "model": "cut", "stream": True}
    )
    assert response.status_code == 200
    events = sse_events(response.text)
    assert [name for name, _ in events[:-1]] == ["delta"] * (len(events) - 1)
    assert len(events) > 1
    name, data = events[-1]
    assert name == "error"
    assert data["endpoint"] == "cut" and "'cut'" in data["error"]
    assert "mid-stream" in data["error"]


@pytest.mark.parametrize("kind", KINDS)
async def test_probe_reports_reachability_and_a_reply(
    kind: str, tutor: httpx.AsyncClient, sim: httpx.AsyncClient, sim_url: str
) -> None:
    await register(tutor, "sim", kind, base_url(sim_url, kind))
    probe = await tutor.post("/models/sim/probe")
    assert probe.status_code == 200, probe.text
    body = probe.json()
    assert body["ok"] is True and body["reachable"] is True
    assert body["model_listed"] is True and "qwen3:8b" in body["listed_models"]
    assert body["reply"] is not None and body["error"] is None
    assert body["latency_ms"] >= 0


@pytest.mark.parametrize("kind", KINDS)
async def test_probe_of_a_closed_port_is_not_ok(kind: str, tutor: httpx.AsyncClient) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    await register(tutor, "gone", kind, base_url(closed, kind))
    probe = await tutor.post("/models/gone/probe")
    assert probe.status_code == 200, probe.text
    body = probe.json()
    assert body["ok"] is False and body["reachable"] is False
    assert body["reply"] is None
    assert "list models:" in body["error"] and "chat:" in body["error"]
    assert "ConnectError" in body["error"]


async def test_bad_chat_input_is_422_naming_the_field(tutor: httpx.AsyncClient) -> None:
    cases = [
        ({"message": "hi", "grade": 0}, "grade"),
        ({"message": "hi", "mode": "lecture"}, "mode"),
        ({"message": ""}, "message"),
        ({"message": "hi", "history": [{"role": "tool", "content": "x"}]}, "history.0.role"),
        ({"message": "hi", "temperature": 2}, "temperature"),
    ]
    for body, field in cases:
        response = await tutor.post("/chat", json=body)
        assert response.status_code == 422, (body, response.text)
        assert [d["field"] for d in response.json()["detail"]] == [field]
