"""Issue #11.5 and #11.8 for the simulator: with an API key set, its controls (PUT /sim/config,
DELETE /sim/stats) need it as the services' mutating routes do; request bodies are capped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from tutorlab_sim import SimConfig, create_app

KEY = "sim-test-key-7d1c"
CHAT = {"model": "qwen3:8b", "messages": [{"role": "user", "content": "hi"}], "stream": False}


@asynccontextmanager
async def sim(**config: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SimConfig(dataset_mirror=None, **config))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
    ],
)
async def test_controls_need_the_key_when_one_is_set(headers: dict[str, str]) -> None:
    async with sim(api_key=KEY) as client:
        put = await client.put("/sim/config", json={"error_rate": 1.0}, headers=headers)
        delete = await client.delete("/sim/stats", headers=headers)
        config = (await client.get("/sim/config")).json()
    for refused in (put, delete):
        assert refused.status_code == 401, refused.text
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in refused.json()["error"]
    assert config["error_rate"] == 0.0
    assert "api_key" not in config and KEY not in str(config)


async def test_with_the_key_controls_work_and_chat_stays_open() -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    async with sim(api_key=KEY) as client:
        put = await client.put("/sim/config", json={"accuracy": 0.5}, headers=auth)
        chat = await client.post("/api/chat", json=CHAT)
        delete = await client.delete("/sim/stats", headers=auth)
        key_change = await client.put("/sim/config", json={"api_key": "x"}, headers=auth)
    assert put.status_code == 200 and put.json()["accuracy"] == 0.5
    assert KEY not in put.text
    assert chat.status_code == 200  # a model endpoint: clients send the model's key, not ours
    assert delete.status_code == 204
    assert key_change.status_code == 422  # fixed at start-up


async def test_the_key_comes_from_the_services_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORLAB_API_KEY", KEY)
    monkeypatch.delenv("TUTORLAB_SIM_API_KEY", raising=False)
    async with sim() as client:
        refused = await client.put("/sim/config", json={"accuracy": 0.5})
    assert refused.status_code == 401


async def test_without_a_key_controls_stay_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUTORLAB_API_KEY", raising=False)
    monkeypatch.delenv("TUTORLAB_SIM_API_KEY", raising=False)
    async with sim() as client:
        assert (await client.put("/sim/config", json={"accuracy": 0.5})).status_code == 200


async def body_of(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 1024):
        yield b" " * 1024


@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions", "/sim/config"])
async def test_a_body_over_the_cap_is_a_413(path: str) -> None:
    async with sim(max_body_bytes=4096) as client:
        method = "PUT" if path == "/sim/config" else "POST"
        declared = await client.request(method, path, content=b" " * 8192)
        streamed = await client.request(method, path, content=body_of(8192))
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert "4096-byte limit" in response.json()["error"]


async def test_json_nested_1000_deep_is_a_4xx() -> None:
    deep = b'{"model": "m", "messages": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    async with sim() as client:
        chat = await client.post("/v1/chat/completions", content=deep)
        config = await client.put("/sim/config", content=deep)
    assert chat.status_code == 400, chat.text
    assert config.status_code == 422, config.text
