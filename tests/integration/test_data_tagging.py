"""Job ``tag_dataset``: rule tags stored per version and used by item filters; the LLM tagger
through a real tutor-api registry, the fan-out and the response cache, against an
OpenAI-compatible double speaking the real wire format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from data_service.app import create_app
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings

from tests.integration.data_support import data_settings, run_job, shared_hf_cache
from tests.support import app_client, migrate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_hf_cache(tmp_path_factory)


async def test_rule_tagging_job_is_stored_and_drives_filters(
    database_url: str, redis_url: str, dataset_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, dataset_mirror, tmp_path, hf_cache)
    async with app_client(create_app(settings)) as client:
        body = {"name": "math500", "source": "mirror"}
        await run_job(client, settings, "/datasets/download", body)
        job = await run_job(
            client,
            settings,
            "/jobs",
            {"kind": "tag_dataset", "params": {"name": "math500", "split": "test"}},
        )
        result = job["result"]
        assert result["rows"] == 500 and result["tagger"] == "rule"
        summary = result["summary"]
        assert sum(int(n) for n in summary["by_grade"].values()) == 500
        agreement = summary["subject_agreement"]
        assert set(agreement["by_subject"]) == {
            "Algebra",
            "Counting & Probability",
            "Geometry",
            "Intermediate Algebra",
            "Number Theory",
            "Prealgebra",
            "Precalculus",
        }
        assert agreement["overall"] == 1.0  # the rule tagger sees MATH's subject label
        blind = summary["blind_rule_agreement"]
        assert 0.5 < blind["overall_top_tag"] <= blind["overall_any_tag"] < 1.0
        assert set(blind["by_subject_any_tag"]) == set(agreement["by_subject"])
        tags_file = tmp_path / result["path"]
        rows = [json.loads(line) for line in tags_file.open()]
        assert len(rows) == 500 and rows[0]["id"] == "test/precalculus/807.json"

        card = (await client.get("/datasets/math500/test")).json()
        assert [t["id"] for t in card["taggings"]] == [result["tagging"]]
        page = (await client.get("/datasets/math500/test/items", params={"grade": 9})).json()
        assert page["tags_from"] == result["tagging"]
        expected = sum(1 for r in rows if r["grade"] == 9)
        assert page["total"] == expected > 0

        pinned = await run_job(
            client,
            settings,
            "/jobs",
            {"kind": "tag_dataset", "params": {"name": "math500", "split": "test", "grade": 8}},
        )
        assert pinned["result"]["summary"]["by_grade"] == {"8": 500}
        newest = (await client.get("/datasets/math500/test/items", params={"grade": 8})).json()
        assert newest["tags_from"] == pinned["result"]["tagging"] and newest["total"] == 500
        older = (
            await client.get(
                "/datasets/math500/test/items", params={"grade": 9, "tagging": result["tagging"]}
            )
        ).json()
        assert older["total"] == expected

        missing = await client.post(
            "/jobs",
            json={
                "kind": "tag_dataset",
                "params": {"name": "math500", "split": "test", "tagger": "llm"},
            },
        )
        assert missing.status_code == 422 and "model" in missing.json()["error"]


def tagger_double() -> tuple[httpx.MockTransport, list[dict[str, Any]]]:
    """An OpenAI-compatible chat endpoint: JSON tags for percent problems, bad replies else."""
    calls: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body)
        problem = body["messages"][-1]["content"]
        if "%" in problem:
            content = '<think>percent</think>{"topic_tags": ["arithmetic.percent"], "grade": 7}'
        elif "dozen" in problem:
            content = '{"topic_tags": ["cooking"], "grade": 3}'
        else:
            content = "Sure! This looks like an addition problem."
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112},
            },
        )

    return httpx.MockTransport(handler), calls


async def test_llm_tagger_through_registry_fanout_and_cache(
    redis_url: str, dataset_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    data_db = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    await migrate("data-service", data_db)
    await migrate("tutor-api", tutor_db)
    settings = data_settings(data_db, redis_url, dataset_mirror, tmp_path / "d", hf_cache)
    model_transport, calls = tagger_double()
    tutor_app = create_tutor_app(TutorApiSettings(database_url=tutor_db))
    async with app_client(tutor_app) as tutor, app_client(create_app(settings)) as client:
        registered = await tutor.post(
            "/models",
            json={
                "name": "tagger",
                "kind": "openai",
                "base_url": "http://llm.test/v1",
                "model": "qwen3:8b",
                "max_concurrency": 16,
            },
        )
        assert registered.status_code == 201, registered.text
        await run_job(
            client,
            settings,
            "/datasets/download",
            {"name": "gsm8k", "source": "mirror", "splits": ["test"]},
        )
        worker: dict[str, Any] = {
            "registry_transport": httpx.ASGITransport(app=tutor_app),
            "model_transport": model_transport,
        }
        params = {"name": "gsm8k", "split": "test", "tagger": "llm", "model": "tagger"}
        job = await run_job(
            client, settings, "/jobs", {"kind": "tag_dataset", "params": params}, **worker
        )
        summary = job["result"]["summary"]
        percent = sum(1 for c in calls if "%" in c["messages"][-1]["content"])
        assert len(calls) == 1319 and 0 < percent < 1319
        assert summary["by_tagger"] == {"llm": percent, "rule": 1319 - percent}
        assert summary["requests"] == 1319 and summary["cached"] == 0 and summary["failed"] == 0
        assert summary["fallbacks"] == {"unusable reply": 1319 - percent}
        system = calls[0]["messages"][0]["content"]
        assert "arithmetic.percent" in system and "grade" in system

        items = (
            await client.get(
                "/datasets/gsm8k/test/items", params={"tag": "arithmetic.percent", "limit": 500}
            )
        ).json()
        llm_tagged = [i for i in items["items"] if i["tags"]["tagger"] == "llm"]
        assert len(llm_tagged) == percent
        assert all(i["tags"]["topic_tags"] == ["arithmetic.percent"] for i in llm_tagged)
        assert all(i["tags"]["grade"] == 7 and i["tags"]["model"] == "tagger" for i in llm_tagged)

        again = await run_job(
            client, settings, "/jobs", {"kind": "tag_dataset", "params": params}, **worker
        )
        assert len(calls) == 1319  # every reply came from the response cache
        assert again["result"]["summary"]["cached"] == 1319

        unknown = await run_job(
            client,
            settings,
            "/jobs",
            {"kind": "tag_dataset", "params": {**params, "model": "nobody"}},
            expect="failed",
            **worker,
        )
        assert "model 'nobody' is not registered" in unknown["error"]
