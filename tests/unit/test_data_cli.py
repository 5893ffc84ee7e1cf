"""``tutorlab data validate`` and ``tutorlab data tag``: local, offline commands."""

from __future__ import annotations

import json
from pathlib import Path

from tutorlab.cli.main import app
from tutorlab.curriculum.tagging import tag_problem
from typer.testing import CliRunner

from tests.unit.data_api_support import planted_jsonl

#: wide: a problem's ``<path>:<line>:`` stays on one line however long the tmp path is
runner = CliRunner(env={"COLUMNS": "250"})


def test_validate_reports_every_planted_problem_by_line(tmp_path: Path) -> None:
    data, expected = planted_jsonl()
    path = tmp_path / "sft.jsonl"
    path.write_bytes(data)
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1, result.output
    for line, code in expected.items():
        assert f"{path}:{line}:" in result.output and f"({code})" in result.output
    assert f"{path}:1:" not in result.output and f"{path}:9:" not in result.output
    assert "9 line(s), 2 valid example(s)" in result.output

    as_json = runner.invoke(app, ["data", "validate", str(path), "--json"])
    report = json.loads(as_json.output)
    assert {p["line"]: p["code"] for p in report["problems"]} == expected


def test_validate_a_clean_file_exits_0(tmp_path: Path) -> None:
    data, _ = planted_jsonl()
    first_line = data.split(b"\n")[0]
    path = tmp_path / "ok.jsonl"
    path.write_bytes(first_line + b"\n")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output
    missing = runner.invoke(app, ["data", "validate", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2


def test_tag_adds_topic_tags_and_grade_offline(tmp_path: Path) -> None:
    problems = [
        {"id": "a", "question": "A bike costs $200 and is 15% off. What is the discount?"},
        {"problem": "Find $x$ if $3x - 5 = 16$.", "solution": "$3x = 21$, so $x = 7$."},
        {"prompt": "Student: What is 1/2 + 1/4?\nMode: hint", "response": "..."},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in problems))
    out = tmp_path / "out" / "tagged.jsonl"
    result = runner.invoke(app, ["data", "tag", "--input", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, None]
    assert rows[0]["topic_tags"] == tag_problem(problems[0]["question"]).topic_tags
    assert "arithmetic.percent" in rows[0]["topic_tags"]
    assert rows[1]["grade"] == tag_problem(problems[1]["problem"], problems[1]["solution"]).grade
    assert "arithmetic.fractions" in rows[2]["topic_tags"] and rows[2]["response"] == "..."

    pinned = tmp_path / "pinned.jsonl"
    result = runner.invoke(
        app, ["data", "tag", "--input", str(source), "--output", str(pinned), "--grade", "5"]
    )
    assert result.exit_code == 0
    assert {json.loads(line)["grade"] for line in pinned.read_text().splitlines()} == {5}


def test_tag_refuses_bad_lines_naming_them(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"question": "What is 2+2?"}\nnot json\n{"answer": 4}\n[1]\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["data", "tag", "--input", str(source), "--output", str(out)])
    assert result.exit_code == 1
    assert "line 2: invalid JSON" in result.output
    assert "line 3: no 'question', 'problem' or 'prompt'" in result.output
    assert "line 4: expected a JSON object" in result.output
    assert not out.exists()
    bad_grade = runner.invoke(
        app, ["data", "tag", "--input", str(source), "--output", str(out), "--grade", "13"]
    )
    assert bad_grade.exit_code == 2
