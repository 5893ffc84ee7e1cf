"""The job-submitting and read endpoints of data-service, without a worker: 202 + Location,
Idempotency-Key, 422s that name the field and 404s that name what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.data_api_support import data_api, migrated_template


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("data-db"))


async def test_download_is_a_job_with_location_and_idempotency(
    template: Path, tmp_path: Path
) -> None:
    async with data_api(template, tmp_path) as (client, queue, _):
        body = {"name": "gsm8k", "source": "mirror"}
        first = await client.post(
            "/datasets/download", json=body, headers={"Idempotency-Key": "k1"}
        )
        assert first.status_code == 202, first.text
        job = first.json()
        assert first.headers["location"] == f"/jobs/{job['id']}"
        assert job["kind"] == "download_dataset" and job["status"] == "queued"
        assert job["params"] == {"name": "gsm8k", "source": "mirror", "splits": None}
        again = await client.post(
            "/datasets/download", json=body, headers={"Idempotency-Key": "k1"}
        )
        assert again.status_code == 200 and again.json()["id"] == job["id"]
        other = await client.post(
            "/datasets/download", json={"name": "math"}, headers={"Idempotency-Key": "k1"}
        )
        assert other.status_code == 409
        assert [e["job_id"] for e in queue.enqueued] == [job["id"]]

        default = (await client.post("/datasets/download", json={"name": "all"})).json()
        assert default["params"]["source"] == "hub"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "svamp", "source": "mirror"}, "name"),
        ({"name": "gsm8k", "source": "ftp"}, "source"),
        ({"name": "gsm8k", "splits": ["dev"]}, "splits.0"),
        ({"name": "gsm8k", "url": "http://x"}, "url"),
        ({}, "name"),
    ],
)
async def test_bad_download_is_422_naming_the_field(
    template: Path, tmp_path: Path, body: dict, field: str
) -> None:
    async with data_api(template, tmp_path) as (client, queue, _):
        response = await client.post("/datasets/download", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == field
        assert queue.enqueued == []


async def test_reads_before_any_import(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, _, _):
        assert (await client.get("/datasets")).json() == []
        card = await client.get("/datasets/math/train")
        assert card.status_code == 404
        assert "math/train has not been imported" in card.json()["error"]
        assert "POST /datasets/download" in card.json()["error"]
        unknown = await client.get("/datasets/aime/test/items")
        assert unknown.status_code == 404 and "'aime' is unknown" in unknown.json()["error"]
        item = await client.get("/datasets/gsm8k/test/items/gsm8k-test-00001")
        assert item.status_code == 404
        assert (await client.get("/training-sets")).json() == []
        missing = await client.get("/training-sets/ts_0123")
        assert missing.status_code == 404 and "ts_0123" in missing.json()["error"]
        kinds = {k["kind"] for k in (await client.get("/jobs/kinds")).json()}
        assert {"download_dataset", "tag_dataset", "build_socratic", "build_teacher"} <= kinds


async def test_builders_are_jobs_with_validated_params(template: Path, tmp_path: Path) -> None:
    async with data_api(template, tmp_path) as (client, queue, _):
        socratic = await client.post(
            "/training-sets/build/socratic", json={"seed": 3, "max_problems": 50}
        )
        assert socratic.status_code == 202, socratic.text
        params = socratic.json()["params"]
        assert params["seed"] == 3 and params["modes"] == ["hint", "explain", "check"]
        assert params["drop_contaminated"] is True and params["contamination_ngram"] == 13

        teacher = await client.post(
            "/training-sets/build/teacher", json={"teacher": "qwen-big", "modes": ["solve"]}
        )
        assert teacher.status_code == 202 and teacher.json()["kind"] == "build_teacher"
        assert len(queue.enqueued) == 2

        no_teacher = await client.post("/training-sets/build/teacher", json={})
        assert no_teacher.status_code == 422
        assert no_teacher.json()["detail"][0]["field"] == "teacher"
        bad_split = await client.post("/training-sets/build/socratic", json={"eval_fraction": 0.9})
        assert bad_split.status_code == 422
        assert bad_split.json()["detail"][0]["field"] == "eval_fraction"
        bad_mode = await client.post("/training-sets/build/socratic", json={"modes": ["solve"]})
        assert bad_mode.status_code == 422
        assert bad_mode.json()["detail"][0]["field"] == "modes.0"
        via_jobs = await client.post(
            "/jobs", json={"kind": "tag_dataset", "params": {"name": "gsm8k", "split": "dev"}}
        )
        assert (
            via_jobs.status_code == 422 and via_jobs.json()["detail"][0]["field"] == "params.split"
        )
