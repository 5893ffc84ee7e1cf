"""Dataset import end to end: API + a real arq worker on Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from data_service.app import create_app

from tests.integration.data_support import copy_file, data_settings, run_job, shared_hf_cache
from tests.support import app_client, migrate

pytestmark = pytest.mark.integration

EXPECTED = {
    ("gsm8k", "test"): 1319,
    ("gsm8k", "train"): 7473,
    ("math", "test"): 5000,
    ("math", "train"): 7500,
    ("math500", "test"): 500,
}


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_hf_cache(tmp_path_factory)


async def test_mirror_import_counts_then_second_import_is_a_noop(
    database_url: str, redis_url: str, dataset_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, dataset_mirror, tmp_path, hf_cache)
    body = {"name": "all", "source": "mirror"}
    async with app_client(create_app(settings)) as client:
        first = await run_job(client, settings, "/datasets/download", body)
        result = first["result"]
        got = {(d["name"], d["split"]): d["rows"] for d in result["datasets"]}
        assert got == EXPECTED
        assert result["created"] == 5 and result["unchanged"] == 0
        assert all("warning" not in d for d in result["datasets"])
        assert first["progress"] == {"done": 5, "total": 5}

        listed = (await client.get("/datasets")).json()
        assert {(v["name"], v["split"]): v["rows"] for v in listed} == EXPECTED
        for version in listed:
            path = tmp_path / version["path"]
            assert path.name == f"{version['sha256'][:12]}.jsonl"
            assert path.parent == tmp_path / "datasets" / version["name"] / version["split"]
            assert sum(1 for _ in path.open()) == version["rows"]
            assert version["current"] is True and version["source"] == "mirror"

        second = await run_job(client, settings, "/datasets/download", body)
        assert second["result"]["unchanged"] == 5 and second["result"]["created"] == 0
        again = (await client.get("/datasets")).json()
        assert [v["id"] for v in again] == [v["id"] for v in listed]
        card = (await client.get("/datasets/gsm8k/test")).json()
        assert len(card["versions"]) == 1
        assert card["current"]["sha256"] == next(
            v["sha256"] for v in listed if v["name"] == "gsm8k" and v["split"] == "test"
        )
        assert card["counts"]["rows"] == 1319
        assert card["counts"]["with_socratic_subquestions"] == 1319
        assert card["hub_source"].startswith("openai/gsm8k")

        math500 = (await client.get("/datasets/math500/test/items", params={"limit": 3})).json()
        ids = (dataset_mirror / "math" / "math500_ids.txt").read_text().split()
        assert [i["id"] for i in math500["items"]] == ids[:3]
        assert math500["total"] == 500


async def test_changed_file_is_a_new_current_version(
    redis_url: str, dataset_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    mirror = tmp_path / "mirror"
    test_file = copy_file(dataset_mirror / "gsm8k/test.jsonl", mirror / "gsm8k/test.jsonl")
    socratic = copy_file(
        dataset_mirror / "gsm8k/test_socratic.jsonl", mirror / "gsm8k/test_socratic.jsonl"
    )
    original = test_file.read_bytes(), socratic.read_bytes()
    settings = data_settings(database_url, redis_url, mirror, tmp_path / "data", hf_cache)
    body = {"name": "gsm8k", "source": "mirror", "splits": ["test"]}
    async with app_client(create_app(settings)) as client:
        first = (await run_job(client, settings, "/datasets/download", body))["result"]
        assert first["datasets"][0]["status"] == "created"
        old = first["datasets"][0]

        # one problem changes (in both files, as upstream would)
        for path in (test_file, socratic):
            lines = path.read_text().splitlines()
            row = json.loads(lines[5])
            row["question"] = row["question"].replace("?", ", in total?", 1)
            lines[5] = json.dumps(row)
            path.write_text("\n".join(lines) + "\n")
        second = (await run_job(client, settings, "/datasets/download", body))["result"]
        new = second["datasets"][0]
        assert new["status"] == "created"
        assert new["sha256"] != old["sha256"] and new["rows"] == old["rows"] == 1319

        card = (await client.get("/datasets/gsm8k/test")).json()
        assert card["current"]["id"] == new["version"]
        assert [v["current"] for v in card["versions"]] == [True, False]
        item = (await client.get("/datasets/gsm8k/test/items/gsm8k-test-00005")).json()
        assert ", in total?" in item["question"]
        old_item = (
            await client.get(
                "/datasets/gsm8k/test/items/gsm8k-test-00005", params={"version": old["version"]}
            )
        ).json()
        assert ", in total?" not in old_item["question"]

        # back to the original content: the old version is current again, no third version
        test_file.write_bytes(original[0])
        socratic.write_bytes(original[1])
        third = (await run_job(client, settings, "/datasets/download", body))["result"]
        assert third["datasets"][0]["status"] == "restored"
        assert third["datasets"][0]["version"] == old["version"]
        card = (await client.get("/datasets/gsm8k/test")).json()
        assert card["current"]["id"] == old["version"] and len(card["versions"]) == 2


async def test_hub_download_fails_clearly_when_offline(
    redis_url: str, tmp_path: Path, hf_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, None, tmp_path / "data", tmp_path / "hf")
    async with app_client(create_app(settings)) as client:
        job = await run_job(
            client,
            settings,
            "/datasets/download",
            {"name": "gsm8k", "source": "hub"},
            expect="failed",
        )
        assert job["error"].startswith("HubUnavailable: the Hugging Face hub cannot be reached")
        assert "offline mode is on" in job["error"] and "openai/gsm8k" in job["error"]
        assert "source=mirror" in job["error"]
        assert (await client.get("/datasets")).json() == []
        # a mirror import without a mirror configured names the setting
        job = await run_job(
            client,
            settings,
            "/datasets/download",
            {"name": "math", "source": "mirror"},
            expect="failed",
        )
        assert "TUTORLAB_DATASET_MIRROR" in job["error"]
    assert os.environ["HF_HUB_OFFLINE"] == "1"


async def test_items_pages_and_filters(
    redis_url: str, dataset_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, dataset_mirror, tmp_path / "d", hf_cache)
    async with app_client(create_app(settings)) as client:
        missing = await client.get("/datasets/gsm8k/test/items")
        assert missing.status_code == 404
        assert "has not been imported" in missing.json()["error"]
        for name in ("gsm8k", "math"):
            await run_job(
                client,
                settings,
                "/datasets/download",
                {"name": name, "source": "mirror", "splits": ["test"]},
            )

        page = (await client.get("/datasets/gsm8k/test/items?offset=10&limit=5")).json()
        assert page["total"] == 1319 and page["offset"] == 10 and page["limit"] == 5
        assert [i["id"] for i in page["items"]] == [f"gsm8k-test-{n:05d}" for n in range(10, 15)]
        first = page["items"][0]
        assert first["answer"] and first["metadata"]["socratic_subquestions"]
        assert first["tags"]["tagger"] == "rule" and 1 <= first["tags"]["grade"] <= 12
        assert page["tags_from"] == "rule (on demand)"

        algebra = (
            await client.get(
                "/datasets/math/test/items", params={"subject": "Algebra", "level": 5, "limit": 500}
            )
        ).json()
        assert 0 < algebra["total"] < 5000
        assert all(
            i["metadata"]["subject"] == "Algebra" and i["metadata"]["level"] == 5
            for i in algebra["items"]
        )
        slug = (
            await client.get("/datasets/math/test/items", params={"subject": "algebra", "level": 5})
        ).json()
        assert slug["total"] == algebra["total"]

        percent = (
            await client.get(
                "/datasets/gsm8k/test/items", params={"tag": "arithmetic.percent", "limit": 500}
            )
        ).json()
        assert 0 < percent["total"] < 1319
        assert all(
            any(t.startswith("arithmetic.percent") for t in i["tags"]["topic_tags"])
            for i in percent["items"]
        )
        parent = (
            await client.get("/datasets/gsm8k/test/items", params={"tag": "arithmetic"})
        ).json()
        assert parent["total"] >= percent["total"]
        grade = (await client.get("/datasets/gsm8k/test/items", params={"grade": 4})).json()
        assert all(i["tags"]["grade"] == 4 for i in grade["items"])

        text = (await client.get("/datasets/gsm8k/test/items", params={"q": "DUCKS"})).json()
        assert text["total"] >= 1
        assert all("ducks" in i["question"].lower() for i in text["items"])

        one = await client.get("/datasets/math/test/items/test/algebra/1.json")
        assert one.status_code == 200 and one.json()["metadata"]["subject"] == "Algebra"
        assert one.json()["tags"]["topic_tags"]

        nope = await client.get("/datasets/math/test/items/test/algebra/nope.json")
        assert nope.status_code == 404 and "test/algebra/nope.json" in nope.json()["error"]
        unknown = await client.get("/datasets/svamp/test")
        assert unknown.status_code == 404 and "svamp" in unknown.json()["error"]
        bad_split = await client.get("/datasets/math500/train/items")
        assert bad_split.status_code == 404 and "no split 'train'" in bad_split.json()["error"]
        bad_tag = await client.get("/datasets/gsm8k/test/items", params={"tag": "cooking"})
        assert bad_tag.status_code == 422 and bad_tag.json()["error"].startswith("tag:")
        bad_limit = await client.get("/datasets/gsm8k/test/items", params={"limit": 0})
        assert bad_limit.status_code == 422 and "limit" in bad_limit.json()["error"]
