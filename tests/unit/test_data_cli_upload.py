"""``tutorlab data upload FILE``: against a data-service served over real HTTP (uvicorn in a
thread, SQLite, no worker: the upload is synchronous)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from data_service.app import create_app
from data_service.config import DataServiceSettings
from tutorlab.cli.main import app
from tutorlab.jobs.queue import InMemoryJobQueue
from typer.testing import CliRunner

from tests.support import serve_in_thread
from tests.unit.data_api_support import GOOD, migrated_template, planted_jsonl

#: wide: a problem's ``<path>:<line>:`` stays on one line however long the tmp path is
runner = CliRunner(env={"COLUMNS": "250"})
KEY = "k-upload-123"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    db = tmp_path / "data-service.db"
    shutil.copy(migrated_template(tmp_path), db)
    settings = DataServiceSettings(
        database_url=f"sqlite+aiosqlite:///{db}", data_dir=tmp_path / "data", api_key=KEY
    )
    monkeypatch.setenv("TUTORLAB_API_KEY", KEY)
    with serve_in_thread(create_app(settings, queue=InMemoryJobQueue()), "data-service") as url:
        yield url


def flat(text: str) -> str:
    return " ".join(text.split())


def test_upload_creates_a_set_once_and_lists_it(served: str, tmp_path: Path) -> None:
    path = tmp_path / "seed.jsonl"
    lines = [{**GOOD, "grade": "6"}, {**GOOD, "prompt": "Student: What is 2 + 5?\nMode: hint"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["data", "upload", str(path), "--name", "seed sft", "--allow-missing-references"]
    first = runner.invoke(app, [*args, "--url", served])
    assert first.exit_code == 0, first.output
    set_id = flat(first.output).split("training set ")[1].split(" ")[0]
    assert set_id.startswith("ts_up_")
    assert "created: 2 train, 0 eval, 0 contaminated (dropped)" in flat(first.output)

    again = runner.invoke(app, [*args, "--url", served])
    assert again.exit_code == 0, again.output
    assert f"training set {set_id} already there (same content)" in flat(again.output)

    listed = runner.invoke(app, ["data", "sets", "--url", served], env={"COLUMNS": "250"})
    assert set_id in listed.output
    assert re.search(r"│ upload\s+│ seed sft\s+│", listed.output), listed.output
    card = runner.invoke(app, ["data", "set", set_id, "--url", served])
    assert json.loads(card.output)["name"] == "seed sft"


def test_upload_of_bad_lines_prints_each_with_its_number(served: str, tmp_path: Path) -> None:
    data, expected = planted_jsonl()
    path = tmp_path / "planted.jsonl"
    path.write_bytes(data)
    result = runner.invoke(
        app, ["data", "upload", str(path), "--allow-missing-references", "--url", served]
    )
    assert result.exit_code == 1
    for line, code in expected.items():
        assert f"{path}:{line}:" in result.output and f"({code})" in result.output
    assert "-> 422" in flat(result.output) and "7 problem(s) on 7 of 9 line(s)" in flat(
        result.output
    )
    refused = runner.invoke(app, ["data", "upload", str(path), "--url", served])
    assert refused.exit_code == 1 and "-> 409" in flat(refused.output)


def test_build_teacher_sends_the_cache_round_and_concurrency(served: str) -> None:
    """``--cache-epoch`` asks the teacher again (a new response-cache round), ``--concurrency``
    bounds the requests in flight: both reach the submitted job's parameters."""
    args = ["data", "build", "teacher", "--teacher", "big-tutor", "--max-problems", "3"]
    submitted = runner.invoke(
        app, [*args, "--cache-epoch", "2", "--concurrency", "8", "--url", served, "--json"]
    )
    assert submitted.exit_code == 0, submitted.output
    params = json.loads(submitted.stdout)["params"]
    assert (params["cache_epoch"], params["concurrency"], params["teacher"]) == (2, 8, "big-tutor")
    default = json.loads(runner.invoke(app, [*args, "--url", served, "--json"]).stdout)["params"]
    assert default["cache_epoch"] == 0
    refused = runner.invoke(app, [*args, "--cache-epoch", "-1", "--url", served])
    assert refused.exit_code == 2 and "--cache-epoch" in flat(refused.output)


def test_tag_dataset_sends_the_cache_round(served: str) -> None:
    """``tag-dataset --tagger llm --cache-epoch N`` asks the model again: the round reaches the
    job's parameters."""
    args = ["data", "tag-dataset", "gsm8k", "test", "--tagger", "llm", "--model", "big-tutor"]
    submitted = runner.invoke(app, [*args, "--cache-epoch", "3", "--url", served, "--json"])
    assert submitted.exit_code == 0, submitted.output
    assert json.loads(submitted.stdout)["params"]["cache_epoch"] == 3
