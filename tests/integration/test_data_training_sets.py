"""Training-set builders end to end: API + real worker; the Socratic builder from a small GSM8K
train (with one planted test problem), teacher data from the model simulator behind a real
tutor-api registry, and a user's own JSONL (upload and path) checked against the real test sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from data_service.app import create_app
from tutor_api.app import create_app as create_tutor_app
from tutor_api.config import TutorApiSettings
from tutorlab.scoring import answer_revealed, guidance, score_math_response
from tutorlab.tutoring import PROMPT_VERSION, system_prompt, training_prompt
from tutorlab_sim import SimConfig
from tutorlab_sim import create_app as create_sim_app

from tests.integration.data_support import data_settings, link_mirror, run_job, shared_hf_cache
from tests.support import app_client, migrate

pytestmark = pytest.mark.integration

TRAIN_LINES = 120
PLANTED_TEST_LINE = 3  # gsm8k-test-00003 is copied into train


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_hf_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def small_mirror(dataset_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GSM8K train cut to 120 problems plus one GSM8K test problem; the other files linked."""
    root = link_mirror(
        dataset_mirror, tmp_path_factory.mktemp("mirror"), skip=("gsm8k/train.jsonl",)
    )
    train = (dataset_mirror / "gsm8k/train.jsonl").read_text().splitlines()[:TRAIN_LINES]
    planted = (dataset_mirror / "gsm8k/test.jsonl").read_text().splitlines()[PLANTED_TEST_LINE]
    (root / "gsm8k/train.jsonl").write_text("\n".join([*train, planted]) + "\n")
    return root


PLANTED_ID = f"gsm8k-train-{TRAIN_LINES:05d}"


def read_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def import_all(client: httpx.AsyncClient, settings: Any) -> dict[str, dict[str, Any]]:
    job = await run_job(
        client, settings, "/datasets/download", {"name": "gsm8k", "source": "mirror"}
    )
    await run_job(
        client,
        settings,
        "/datasets/download",
        {"name": "math", "source": "mirror", "splits": ["test"]},
    )
    records = (await client.get("/datasets/gsm8k/train/items", params={"limit": 500})).json()[
        "items"
    ]
    assert job["result"]["datasets"][0]["rows"] == TRAIN_LINES + 1
    return {r["id"]: r for r in records}


async def build(
    client: httpx.AsyncClient, settings: Any, path: str, body: dict[str, Any], **worker: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    job = await run_job(client, settings, path, body, **worker)
    set_id = job["result"]["training_set"]
    shown = (await client.get(f"/training-sets/{set_id}")).json()
    return job["result"], shown


async def download(client: httpx.AsyncClient, set_id: str, part: str, fmt: str = "prompt") -> str:
    response = await client.get(
        f"/training-sets/{set_id}/download", params={"part": part, "format": fmt}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response.text


async def test_socratic_builder(
    database_url: str, redis_url: str, small_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    await migrate("data-service", database_url)
    settings = data_settings(database_url, redis_url, small_mirror, tmp_path, hf_cache)
    path = "/training-sets/build/socratic"
    async with app_client(create_app(settings)) as client:
        no_data = await run_job(client, settings, path, {"seed": 7}, expect="failed")
        assert "gsm8k/train has not been imported" in no_data["error"]
        await run_job(
            client,
            settings,
            "/datasets/download",
            {"name": "gsm8k", "source": "mirror", "splits": ["train"]},
        )
        no_refs = await run_job(client, settings, path, {"seed": 7}, expect="failed")
        assert "contamination check needs gsm8k/test, math/test imported" in no_refs["error"]
        records = await import_all(client, settings)

        result, shown = await build(client, settings, path, {"seed": 7})
        card = shown["card"]
        assert card["builder"] == "socratic" and card["prompt_version"] == PROMPT_VERSION
        assert card["sha256"] == result["sha256"] == shown["sha256"]
        assert card["sources"][0]["name"] == "gsm8k" and card["sources"][0]["problems"] == 121
        assert {r["name"] for r in card["contamination"]["references"]} == {"gsm8k", "math"}
        flagged = card["contamination"]["examples"]
        assert flagged and card["contamination"]["dropped"] is True
        # the planted copy, and GSM8K's own train/test overlap (train 20 ~ test 632) are caught
        flagged_sources = {f["id"].split(":")[0]: f["test_id"] for f in flagged}
        assert flagged_sources[PLANTED_ID] == f"gsm8k-test-{PLANTED_TEST_LINE:05d}"
        assert flagged_sources["gsm8k-train-00020"] == "gsm8k-test-00632"
        counts = card["counts"]
        assert counts["train"]["examples"] == result["train"] == shown["train_rows"]
        assert counts["eval"]["examples"] == result["eval"] > 0
        assert set(counts["all"]["by_mode"]) == {"hint", "explain", "check"}
        assert sum(counts["all"]["by_grade"].values()) == result["train"] + result["eval"]
        assert card["split"]["problems"]["eval"] > 0

        train = read_jsonl(await download(client, result["training_set"], "train"))
        evals = read_jsonl(await download(client, result["training_set"], "eval"))
        examples = train + evals
        assert len(train) == result["train"] and len(evals) == result["eval"]
        sources_train = {e["metadata"]["source_id"] for e in train}
        sources_eval = {e["metadata"]["source_id"] for e in evals}
        assert not sources_train & sources_eval  # one problem's examples stay on one side
        assert not set(flagged_sources) & (sources_train | sources_eval)
        for example in examples:
            record = records[example["metadata"]["source_id"]]
            assert example["prompt"].startswith("Student: ")
            assert example["prompt"].endswith(f"\nMode: {example['mode']}")
            assert 1 <= example["grade"] <= 12 and example["topic_tags"]
            if example["mode"] == "hint":
                context = [record["question"], example["prompt"]]
                assert not answer_revealed(example["response"], record["answer"], context)
                assert guidance(example["response"], context).asks_question
        hints = [e for e in examples if e["mode"] == "hint"]
        checks = [e for e in examples if e["mode"] == "check"]
        assert len(hints) > 50 and len(checks) > 50
        wrong = [c for c in checks if c["metadata"]["attempt"] == "wrong"]
        assert wrong and all(
            "first mistake" in c["response"] or "goes wrong" in c["response"] for c in wrong
        )

        messages = read_jsonl(await download(client, result["training_set"], "train", "messages"))
        assert [m["id"] for m in messages] == [e["id"] for e in train]
        for plain, chat in zip(train[:20], messages[:20], strict=True):
            roles = [m["role"] for m in chat["messages"]]
            assert roles == ["system", "user", "assistant"]
            assert chat["messages"][0]["content"] == system_prompt(plain["mode"], plain["grade"])
            assert training_prompt(chat["messages"][1]["content"], plain["mode"]) == plain["prompt"]
            assert chat["messages"][2]["content"] == plain["response"]

        valid = await client.post(
            "/training-sets/validate",
            json={"path": f"training_sets/{result['training_set']}/train.messages.jsonl"},
        )
        assert valid.status_code == 200 and valid.json()["ok"] is True
        assert valid.json()["n_valid"] == result["train"]

        same, _ = await build(client, settings, path, {"seed": 7})
        assert same["training_set"] != result["training_set"]
        assert same["sha256"] == result["sha256"]
        other, _ = await build(client, settings, path, {"seed": 8})
        assert other["sha256"] != result["sha256"]
        kept, kept_card = await build(
            client, settings, path, {"seed": 7, "drop_contaminated": False}
        )
        assert kept_card["card"]["contamination"]["flagged"] == len(flagged)
        everything = read_jsonl(await download(client, kept["training_set"], "train"))
        everything += read_jsonl(await download(client, kept["training_set"], "eval"))
        assert PLANTED_ID in {e["metadata"]["source_id"] for e in everything}

        listed = (await client.get("/training-sets", params={"builder": "socratic"})).json()
        assert len(listed) == 4 and listed[0]["links"]["train"].endswith("part=train")
        assert (await client.get("/training-sets/ts_nope")).status_code == 404
        bad_part = await client.get(f"/training-sets/{result['training_set']}/download?part=dev")
        assert bad_part.status_code == 422 and "part" in bad_part.json()["error"]


SIM: dict[str, Any] = {
    "accuracy": 0.6,
    "tutoring_leak_rate": 0.3,
    "tutoring_question_rate": 0.8,
    "seed": 3,
    "latency_ms": 0.0,
}


async def test_teacher_data_from_the_simulator(
    redis_url: str, small_mirror: Path, tmp_path: Path, hf_cache: Path
) -> None:
    data_db = f"sqlite+aiosqlite:///{tmp_path / 'data.db'}"
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    await migrate("data-service", data_db)
    await migrate("tutor-api", tutor_db)
    settings = data_settings(data_db, redis_url, small_mirror, tmp_path / "d", hf_cache)
    sim_app = create_sim_app(SimConfig(dataset_mirror=small_mirror, **SIM))
    tutor_app = create_tutor_app(TutorApiSettings(database_url=tutor_db))
    worker: dict[str, Any] = {
        "registry_transport": httpx.ASGITransport(app=tutor_app),
        "model_transport": httpx.ASGITransport(app=sim_app),
    }
    async with app_client(tutor_app) as tutor, app_client(create_app(settings)) as client:
        registered = await tutor.post(
            "/models",
            json={
                "name": "teacher",
                "kind": "openai",
                "base_url": "http://sim.test/v1",
                "model": "qwen3:8b",
            },
        )
        assert registered.status_code == 201, registered.text
        records = await import_all(client, settings)
        body = {"teacher": "teacher", "max_problems": 60, "seed": 1}
        path = "/training-sets/build/teacher"
        result, shown = await build(client, settings, path, body, **worker)
        card = shown["card"]
        assert card["builder"] == "teacher"
        assert card["teacher"]["name"] == "teacher" and card["teacher"]["model"] == "qwen3:8b"
        generation = card["generation"]
        assert generation["prompts"] == 120 and generation["failed_requests"] == 0
        assert generation["rejected"]["wrong final answer"] > 0
        assert generation["rejected"]["hint reveals the final answer"] > 0
        assert 0 < generation["kept"]["solve"] < 60 and 0 < generation["kept"]["hint"] < 60

        examples = read_jsonl(await download(client, result["training_set"], "train"))
        examples += read_jsonl(await download(client, result["training_set"], "eval"))
        assert len(examples) == result["train"] + result["eval"] > 0
        for example in examples:
            record = records[example["metadata"]["source_id"]]
            provenance = example["metadata"]["provenance"]
            assert provenance["teacher"] == "teacher"
            assert provenance["prompt_version"] == PROMPT_VERSION
            if example["mode"] == "solve":
                verdict = score_math_response(record["answer"], example["response"], kind="gsm8k")
                assert verdict.correct is True
                assert provenance["verdicts"]["math"]["correct"] is True
            else:
                context = [record["question"], example["prompt"]]
                assert not answer_revealed(example["response"], record["answer"], context)
                assert guidance(example["response"], context).asks_question
                assert provenance["verdicts"]["answer_revealed"] is False
        rejected = read_jsonl(
            (
                tmp_path / "d" / "training_sets" / result["training_set"] / "rejected.jsonl"
            ).read_text()
        )
        assert len(rejected) == sum(generation["rejected"].values())
        assert all(r["reason"] for r in rejected)

        again, again_card = await build(client, settings, path, body, **worker)
        assert again["sha256"] == result["sha256"]
        assert again_card["card"]["generation"]["cached"] == 120

        unknown = await run_job(
            client, settings, path, {**body, "teacher": "ghost"}, expect="failed", **worker
        )
        assert "model 'ghost' is not registered" in unknown["error"]


def seed_form(message: str, grade: str, mode: str = "hint", **extra: Any) -> dict[str, Any]:
    """A line as the seed writes it: ``grade`` a string."""
    return {
        "prompt": f"Student: {message}\nMode: {mode}",
        "response": "What do you know, and what are you asked to find?",
        "grade": grade,
        "topic_tags": ["arithmetic.multiplication_division"],
        **extra,
    }


async def test_a_users_jsonl_becomes_a_set(
    database_url: str,
    redis_url: str,
    small_mirror: Path,
    dataset_mirror: Path,
    tmp_path: Path,
    hf_cache: Path,
) -> None:
    """An upload and the same file by path in the mirror: validated, checked against the real
    GSM8K test and MATH test versions (a copied test problem is caught), served by id."""
    await migrate("data-service", database_url)
    mirror = link_mirror(small_mirror, tmp_path / "mirror")
    settings = data_settings(database_url, redis_url, mirror, tmp_path / "data", hf_cache)
    test_problem = json.loads((dataset_mirror / "gsm8k/test.jsonl").read_text().splitlines()[5])[
        "question"
    ]
    rows = [
        seed_form("A box holds 6 rows of 4 eggs. How many eggs?", "3", id="eggs"),
        seed_form("Share 36 stickers among 4 friends equally.", "4", mode="explain"),
        seed_form(test_problem, "5", id="copied"),
        {
            "messages": [
                {"role": "user", "content": "I got 7 x 8 = 54. Is that right?"},
                {"role": "assistant", "content": "What is 7 x 8 if you add 7 x 4 twice?"},
            ],
            "grade": "3",
            "topic_tags": ["arithmetic.multiplication_division"],
            "mode": "check",
        },
    ]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    async with app_client(create_app(settings)) as client:
        refused = await client.post("/training-sets", files={"file": ("ours.jsonl", data)})
        assert refused.status_code == 409 and "require_references" in refused.json()["error"]
        await import_all(client, settings)
        current = {(v["name"], v["split"]): v["id"] for v in (await client.get("/datasets")).json()}

        created = await client.post(
            "/training-sets", files={"file": ("ours.jsonl", data)}, data={"name": "ours"}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        set_id, card = body["id"], body["card"]
        contamination = card["contamination"]
        assert {r["version"] for r in contamination["references"]} == {
            current["gsm8k", "test"],
            current["math", "test"],
        }
        assert (contamination["checked"], contamination["flagged"]) == (4, 1)
        [flagged] = contamination["examples"]
        assert (flagged["id"], flagged["line"], flagged["test_id"]) == (
            "copied",
            3,
            "gsm8k-test-00005",
        )
        assert (body["train_rows"], body["eval_rows"]) == (3, 0)
        assert card["counts"]["all"]["by_grade"] == {"3": 2, "4": 1}
        assert card["counts"]["all"]["by_mode"] == {"check": 1, "explain": 1, "hint": 1}

        train = read_jsonl(await download(client, set_id, "train"))
        assert [r.get("id") for r in train] == ["eggs", None, None]
        assert [r["grade"] for r in train] == [3, 4, 3]
        chats = read_jsonl(await download(client, set_id, "train", "messages"))
        assert chats[0]["messages"][0]["content"] == system_prompt("hint", 3)
        assert training_prompt(chats[1]["messages"][1]["content"], "explain") == train[1]["prompt"]
        assert chats[2]["messages"] == rows[3]["messages"]
        valid = await client.post(
            "/training-sets/validate", json={"path": f"training_sets/{set_id}/train.jsonl"}
        )
        assert valid.json()["ok"] is True and valid.json()["n_valid"] == 3

        (mirror / "team").mkdir()
        (mirror / "team" / "sft.jsonl").write_bytes(data)
        by_path = await client.post(
            "/training-sets", json={"path": str(mirror / "team" / "sft.jsonl"), "name": "again"}
        )
        assert by_path.status_code == 200 and by_path.json()["id"] == set_id
        assert by_path.json()["created"] is False and by_path.json()["name"] == "ours"
        # the mirror's own files are symlinks to the shared mirror: they resolve outside it
        linked = await client.post(
            "/training-sets", json={"path": str(mirror / "gsm8k" / "test.jsonl"), "name": "x"}
        )
        assert linked.status_code == 422 and linked.json()["error"].startswith("path:")

        listed = (await client.get("/training-sets", params={"builder": "upload"})).json()
        assert [(s["id"], s["name"]) for s in listed] == [(set_id, "ours")]
