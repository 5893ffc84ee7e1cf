"""POST /training-sets: a user's own JSONL (a multipart upload, or a path inside the data
directory or the dataset mirror) becomes a training set with a card, like the built sets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.data_api_support import (
    data_api,
    migrated_template,
    planted_jsonl,
    seed_test_sets,
)

#: a GSM8K-test-like problem; a training line quoting it is contamination
TEST_PROBLEM = (
    "A baker fills forty two boxes with seven muffins each and sells every box at the "
    "Saturday market before noon. How many muffins did the baker sell?"
)
NO_REFS = {"require_references": "false"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("data-db"))


def seed_line(message: str, grade: Any, **extra: Any) -> dict[str, Any]:
    """A line in the seed's form: the grade as the seed writes it, a string."""
    return {
        "prompt": f"Student: {message}\nMode: hint",
        "response": "Which operation joins the two amounts? What do you get?",
        "grade": grade,
        "topic_tags": ["arithmetic.addition_subtraction"],
        **extra,
    }


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


SEED_ROWS = [
    seed_line("What is 12 + 30?", "6"),
    seed_line("What is 7 + 8?", "3"),
    seed_line("Tom has 5 apples and gets 9 more. How many now?", 4),
    {
        "messages": [
            {"role": "user", "content": "Is 14 - 6 equal to 8?"},
            {"role": "assistant", "content": "How could you check it by adding?"},
        ],
        "grade": "2",
        "topic_tags": ["arithmetic.addition_subtraction"],
        "mode": "check",
    },
    {**seed_line("Why does 3 + 4 equal 4 + 3?", 2), "prompt": "Why does 3 + 4 equal 4 + 3?"},
]


def lines_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


async def upload(
    client: httpx.AsyncClient, data: bytes, filename: str = "mine.jsonl", **fields: str
) -> httpx.Response:
    return await client.post(
        "/training-sets", files={"file": (filename, data, "application/x-ndjson")}, data=fields
    )


async def test_an_upload_becomes_a_set_with_a_card(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, _, settings):
        response = await upload(client, jsonl(SEED_ROWS), description="ours", **NO_REFS)
        assert response.status_code == 201, response.text
        body = response.json()
        set_id = body["id"]
        assert set_id.startswith("ts_up_") and body["created"] is True
        assert response.headers["location"] == f"/training-sets/{set_id}"
        assert (body["builder"], body["name"], body["train_rows"], body["eval_rows"]) == (
            "upload",
            "mine.jsonl",
            5,
            0,
        )
        card = body["card"]
        assert card["source"]["kind"] == "upload" and card["source"]["filename"] == "mine.jsonl"
        assert card["source"]["bytes"] == len(jsonl(SEED_ROWS))
        assert card["description"] == "ours"
        assert card["counts"]["all"]["by_grade"] == {"2": 2, "3": 1, "4": 1, "6": 1}
        assert card["counts"]["all"]["by_mode"] == {"check": 1, "hint": 3, "unspecified": 1}
        assert card["counts"]["all"]["by_topic"] == {"arithmetic.addition_subtraction": 5}
        assert card["formats"] == {"messages": 1, "prompt_response": 4}
        assert card["messages_form"] == {
            "as_written": 1,
            "policy_system_prompt": 3,
            "no_system_prompt": 1,
        }
        assert card["contamination"]["missing_references"] == ["gsm8k/test", "math/test"]
        assert card["sha256"] == body["sha256"]
        stored = settings.data_dir / "training_sets" / set_id
        assert json.loads((stored / "card.json").read_text()) == card

        shown = (await client.get(f"/training-sets/{set_id}")).json()
        assert shown["card"] == card and shown["name"] == "mine.jsonl"
        listed = (await client.get("/training-sets", params={"builder": "upload"})).json()
        assert [s["id"] for s in listed] == [set_id]

        # the lines as written, the seed's string grades as numbers
        train = lines_of(await client.get(f"/training-sets/{set_id}/download"))
        assert [row["grade"] for row in train] == [6, 3, 4, 2, 2]
        assert train[0] == {**SEED_ROWS[0], "grade": 6}
        assert train[3]["messages"] == SEED_ROWS[3]["messages"]
        messages = lines_of(
            await client.get(f"/training-sets/{set_id}/download", params={"format": "messages"})
        )
        first = messages[0]["messages"]
        assert [m["role"] for m in first] == ["system", "user", "assistant"]
        assert "grade 6" in first[0]["content"] and first[1]["content"] == "What is 12 + 30?"
        assert messages[0]["mode"] == "hint" and messages[3] == {**SEED_ROWS[3], "grade": 2}
        assert [m["role"] for m in messages[4]["messages"]] == ["user", "assistant"]
        empty = await client.get(f"/training-sets/{set_id}/download", params={"part": "eval"})
        assert empty.status_code == 200 and empty.text == ""


async def test_the_same_content_is_the_same_set(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, _, settings):
        data = jsonl(SEED_ROWS)
        first = await upload(client, data, **NO_REFS)
        again = await upload(client, data, filename="copy.jsonl", name="other name", **NO_REFS)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
        assert again.json()["name"] == "mine.jsonl"  # the first upload's name stays
        target = settings.data_dir / "mine" / "sft.jsonl"
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        by_path = await client.post(
            "/training-sets", json={"path": "mine/sft.jsonl", "name": "x", **_no_refs()}
        )
        assert by_path.status_code == 200 and by_path.json()["id"] == first.json()["id"]
        other_split = await upload(client, data, eval_fraction="0.4", **NO_REFS)
        assert other_split.status_code == 201 and other_split.json()["id"] != first.json()["id"]
        changed = await upload(client, data + jsonl([seed_line("What is 1 + 1?", "1")]), **NO_REFS)
        assert changed.status_code == 201 and changed.json()["id"] != first.json()["id"]
        assert len((await client.get("/training-sets")).json()) == 3


def _no_refs() -> dict[str, bool]:
    return {"require_references": False}


async def test_a_path_inside_the_data_directory_or_the_mirror(
    template: Path, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "team").mkdir(parents=True)
    (mirror / "team" / "sft.jsonl").write_bytes(jsonl(SEED_ROWS[:2]))
    async with data_api(template, tmp_path, dataset_mirror=mirror) as (client, _, settings):
        inside = settings.data_dir / "uploads" / "sft.jsonl"
        inside.parent.mkdir(parents=True)
        inside.write_bytes(jsonl(SEED_ROWS))
        relative = await client.post(
            "/training-sets",
            json={"path": "uploads/sft.jsonl", "name": "team sft", **_no_refs()},
        )
        assert relative.status_code == 201, relative.text
        source = relative.json()["card"]["source"]
        assert source["kind"] == "path" and source["path"] == "uploads/sft.jsonl"
        assert source["resolved_path"] == str(inside.resolve())
        assert relative.json()["name"] == "team sft"
        in_mirror = await client.post(
            "/training-sets",
            json={"path": str(mirror / "team" / "sft.jsonl"), "name": "m", **_no_refs()},
        )
        assert in_mirror.status_code == 201, in_mirror.text
        assert in_mirror.json()["train_rows"] == 2


async def test_a_path_outside_is_422_whether_or_not_it_exists(
    template: Path, tmp_path: Path
) -> None:
    async with data_api(template, tmp_path) as (client, _, settings):
        secret = tmp_path / "elsewhere.jsonl"
        secret.write_bytes(jsonl(SEED_ROWS))
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(secret, settings.data_dir / "link.jsonl")
        errors = []
        for raw in (
            "../elsewhere.jsonl",  # exists
            "../nowhere.jsonl",  # does not
            str(secret),
            "/etc/passwd",
            "link.jsonl",  # inside, but a symlink to a file outside
            "nothing/../../elsewhere.jsonl",
        ):
            response = await client.post("/training-sets", json={"path": raw, "name": "n"})
            assert response.status_code == 422, (raw, response.text)
            error = response.json()["error"]
            assert error.startswith(f"path: {raw!r} is outside the data directory"), error
            errors.append(error.replace(repr(raw), "P"))
        assert len(set(errors)) == 1  # the same answer for a file that exists and one that doesn't
        missing = await client.post("/training-sets", json={"path": "none.jsonl", "name": "n"})
        assert missing.status_code == 404 and "none.jsonl" in missing.json()["error"]
        no_name = await client.post("/training-sets", json={"path": "link.jsonl"})
        assert no_name.status_code == 422 and no_name.json()["detail"][0]["field"] == "name"
        unknown = await client.post("/training-sets", json={"path": "x", "name": "n", "seeds": 1})
        assert unknown.status_code == 422 and unknown.json()["error"].startswith("seeds")
        assert (await client.get("/training-sets")).json() == []


async def test_invalid_lines_are_listed_with_their_numbers(template: Path, tmp_path: Path) -> None:
    data, expected = planted_jsonl()
    async with data_api(template, tmp_path) as (client, _, settings):
        response = await upload(client, data, filename="planted.jsonl", **NO_REFS)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"].startswith("upload 'planted.jsonl': 7 problem(s) on 7 of 9 line(s)")
        assert "line 2: invalid JSON" in body["error"]
        assert {p["line"]: p["code"] for p in body["detail"]} == expected
        assert body["problems"] == 7
        grade = next(p for p in body["detail"] if p["line"] == 6)
        assert grade["field"] == "grade" and "'third' is not a whole number" in grade["msg"]

        encoding = await upload(
            client, jsonl(SEED_ROWS[:1]) + b'{"prompt": "caf\xe9"}\n', **NO_REFS
        )
        assert encoding.status_code == 422
        assert encoding.json()["detail"] == [
            {
                "field": "line",
                "line": 2,
                "code": "invalid_encoding",
                "msg": "not valid UTF-8 (invalid continuation byte at byte 15)",
                # every 422 entry has the one shape: field, loc, msg, type (decision 0020)
                "loc": ["line"],
                "type": "value_error",
            }
        ]
        grades = jsonl(
            [seed_line(f"What is {i} + 1?", g) for i, g in enumerate(["six", "6.5", "13", ""])]
        )
        bad_grades = await upload(client, grades, **NO_REFS)
        assert [(p["line"], p["field"], p["code"]) for p in bad_grades.json()["detail"]] == [
            (1, "grade", "wrong_type"),
            (2, "grade", "wrong_type"),
            (3, "grade", "grade_out_of_range"),
            (4, "grade", "wrong_type"),
        ]
        many = jsonl([{"prompt": f"x{i}"} for i in range(60)])  # 3 missing fields each
        capped = (await upload(client, many, **NO_REFS)).json()
        assert capped["problems"] == 60 * 3 and len(capped["detail"]) == 50
        empty = await upload(client, b"", **NO_REFS)
        assert empty.status_code == 422 and "no training example" in empty.json()["error"]
        assert (await client.get("/training-sets")).json() == []
        assert not (settings.data_dir / "training_sets").exists()


async def test_contamination_is_reported_and_dropped_like_built_sets(
    template: Path, tmp_path: Path
) -> None:
    rows = [*SEED_ROWS[:3], seed_line(TEST_PROBLEM, "5", id="copied")]
    async with data_api(template, tmp_path) as (client, _, settings):
        refused = await upload(client, jsonl(rows))
        assert refused.status_code == 409
        assert refused.json()["error"].startswith("require_references: the contamination check")
        await seed_test_sets(settings, [TEST_PROBLEM, "How many legs do three cats have?"])

        dropped = await upload(client, jsonl(rows))
        assert dropped.status_code == 201, dropped.text
        card = dropped.json()["card"]
        contamination = card["contamination"]
        assert {r["name"] for r in contamination["references"]} == {"gsm8k", "math"}
        assert (contamination["checked"], contamination["flagged"]) == (4, 1)
        assert contamination["dropped"] is True
        [flagged] = contamination["examples"]
        assert (flagged["id"], flagged["line"], flagged["test_id"]) == (
            "copied",
            4,
            "gsm8k-test-00000",
        )
        assert card["counts"]["lines"] == 4 and card["counts"]["kept"] == 3
        train = lines_of(await client.get(f"/training-sets/{dropped.json()['id']}/download"))
        assert len(train) == 3 and all(row.get("id") != "copied" for row in train)

        kept = await upload(client, jsonl(rows), drop_contaminated="false")
        assert kept.status_code == 201 and kept.json()["id"] != dropped.json()["id"]
        assert kept.json()["train_rows"] == 4
        assert kept.json()["card"]["contamination"]["flagged"] == 1

        only_copies = await upload(client, jsonl(rows[3:]))
        assert only_copies.status_code == 422
        assert "overlaps a test problem" in only_copies.json()["error"]


async def test_eval_fraction_splits_by_source_problem(template: Path, tmp_path: Path) -> None:
    rows = [
        seed_line(f"What is {n} + {k}?", str(1 + n % 6), metadata={"source_id": f"p{n}"})
        for n in range(20)
        for k in (1, 2)
    ]
    async with data_api(template, tmp_path) as (client, _, _):
        response = await upload(client, jsonl(rows), eval_fraction="0.2", seed="3", **NO_REFS)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["train_rows"] + body["eval_rows"] == 40 and body["eval_rows"] > 0
        split = body["card"]["split"]
        assert split["seed"] == 3 and split["problems"]["eval"] == body["eval_rows"] // 2
        set_id = body["id"]
        train = lines_of(await client.get(f"/training-sets/{set_id}/download"))
        evals = lines_of(
            await client.get(f"/training-sets/{set_id}/download", params={"part": "eval"})
        )
        train_sources = {r["metadata"]["source_id"] for r in train}
        assert not train_sources & {r["metadata"]["source_id"] for r in evals}


async def test_limits_content_types_and_the_api_key(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path, max_upload_bytes=2048, api_key="k-123456") as (
        client,
        _,
        settings,
    ):
        data = jsonl(SEED_ROWS)
        denied = await upload(client, data, **NO_REFS)
        assert denied.status_code == 401
        auth = {"authorization": "Bearer k-123456"}
        allowed = await client.post(
            "/training-sets", files={"file": ("a.jsonl", data)}, data=NO_REFS, headers=auth
        )
        assert allowed.status_code == 201, allowed.text
        big = await client.post(
            "/training-sets", files={"file": ("big.jsonl", data * 10)}, headers=auth
        )
        assert big.status_code == 413 and "2048-byte limit" in big.json()["error"]
        on_disk = settings.data_dir / "big.jsonl"
        on_disk.write_bytes(data * 10)
        big_path = await client.post(
            "/training-sets", json={"path": "big.jsonl", "name": "b"}, headers=auth
        )
        assert big_path.status_code == 413 and big_path.json()["error"].startswith("path:")
        plain = await client.post(
            "/training-sets", content=data, headers={**auth, "content-type": "text/plain"}
        )
        assert plain.status_code == 415 and "multipart/form-data" in plain.json()["error"]
        bad_option = await client.post(
            "/training-sets",
            files={"file": ("a.jsonl", data)},
            data={"eval_fraction": "half"},
            headers=auth,
        )
        assert bad_option.status_code == 422
        assert bad_option.json()["error"].startswith("eval_fraction")
        assert (await client.get("/training-sets")).status_code == 200  # reads stay open
