"""POST /training-sets/validate: a path under the data directory, a multipart upload or the raw
JSONL body; every planted problem is reported with its line number."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.unit.data_api_support import GOOD, data_api, migrated_template, planted_jsonl


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("data-db"))


def assert_planted(report: dict, expected: dict[int, str]) -> None:
    assert report["ok"] is False
    assert report["n_lines"] == 9 and report["n_valid"] == 2
    found = {p["line"]: p["code"] for p in report["problems"]}
    assert found == expected, report["problems"]
    grade = next(p for p in report["problems"] if p["line"] == 4)
    assert grade["field"] == "grade"
    duplicate = next(p for p in report["problems"] if p["line"] == 7)
    assert duplicate["duplicate_of"] == 1
    assert report["counts_by_format"] == {"messages": 1, "prompt_response": 1}


async def test_raw_body_reports_every_planted_problem(template: Path, tmp_path: Path) -> None:
    data, expected = planted_jsonl()
    async with data_api(template, tmp_path) as (client, _, _):
        response = await client.post(
            "/training-sets/validate",
            content=data,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["source"] == "body"
        assert_planted(report, expected)


async def test_multipart_upload(template: Path, tmp_path: Path) -> None:
    data, expected = planted_jsonl()
    async with data_api(template, tmp_path) as (client, _, _):
        response = await client.post(
            "/training-sets/validate", files={"file": ("sft.jsonl", data, "application/jsonl")}
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["source"] == "upload" and report["name"] == "sft.jsonl"
        assert_planted(report, expected)
        strict = await client.post(
            "/training-sets/validate",
            params={"max_tokens": 16},
            files={"file": ("one.jsonl", json.dumps(GOOD).encode() + b"\n")},
        )
        assert [p["code"] for p in strict.json()["problems"]] == ["too_long"]


async def test_path_under_the_data_directory(template: Path, tmp_path: Path) -> None:
    data, expected = planted_jsonl()
    async with data_api(template, tmp_path) as (client, _, settings):
        target = settings.data_dir / "uploads" / "sft.jsonl"
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        relative = await client.post("/training-sets/validate", json={"path": "uploads/sft.jsonl"})
        assert relative.status_code == 200, relative.text
        assert relative.json()["source"] == "path"
        assert_planted(relative.json(), expected)
        absolute = await client.post("/training-sets/validate", json={"path": str(target)})
        assert absolute.json()["problems"] == relative.json()["problems"]

        outside = tmp_path / "elsewhere.jsonl"
        outside.write_bytes(data)
        escaped = await client.post("/training-sets/validate", json={"path": "../elsewhere.jsonl"})
        assert escaped.status_code == 422
        assert escaped.json()["error"].startswith("path:") and "outside" in escaped.json()["error"]
        missing = await client.post("/training-sets/validate", json={"path": "uploads/none.jsonl"})
        assert missing.status_code == 404 and "uploads/none.jsonl" in missing.json()["error"]
        no_path = await client.post("/training-sets/validate", json={"file": "x"})
        assert no_path.status_code == 422 and no_path.json()["error"].startswith("path")
        empty = await client.post(
            "/training-sets/validate", content=b"", headers={"content-type": "text/plain"}
        )
        assert empty.status_code == 422 and empty.json()["error"].startswith("body")


async def test_valid_file_is_ok_and_oversized_body_is_413(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path, max_upload_bytes=2048) as (client, _, _):
        good = (json.dumps(GOOD) + "\n").encode()
        report = (
            await client.post(
                "/training-sets/validate", content=good, headers={"content-type": "text/plain"}
            )
        ).json()
        assert report["ok"] is True and report["problems"] == []
        assert report["counts_by_mode"] == {"hint": 1}
        big = await client.post(
            "/training-sets/validate",
            content=good * 100,
            headers={"content-type": "application/x-ndjson"},
        )
        assert big.status_code == 413 and "2048" in big.json()["error"]


async def test_validate_needs_the_api_key_when_one_is_set(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path, api_key="k-123456") as (client, _, _):
        denied = await client.post(
            "/training-sets/validate", content=b"{}\n", headers={"content-type": "text/plain"}
        )
        assert denied.status_code == 401
        allowed = await client.post(
            "/training-sets/validate",
            content=b"{}\n",
            headers={"content-type": "text/plain", "authorization": "Bearer k-123456"},
        )
        assert allowed.status_code == 200
        assert {p["field"] for p in allowed.json()["problems"]} >= {"prompt", "response"}
        assert isinstance(httpx.Headers(denied.headers).get("www-authenticate"), str)
