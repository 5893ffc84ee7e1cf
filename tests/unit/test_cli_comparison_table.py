"""``tutorlab bench compare``'s table: a metric one run never computed reads "not compared"."""

from __future__ import annotations

import io

import pytest
from eval_service.comparison import RunSide, compare_sides
from rich.console import Console
from tutorlab.cli import bench


def tutoring(ref: str, judged: bool) -> RunSide:
    items = [
        {
            "task": "tutoring",
            "id": f"t{i}",
            "status": "ok",
            "metrics": {
                "no_answer_reveal": True,
                "provides_guidance": judged or i < 4,
                **({"judge_guidance": i < 12} if judged else {}),
            },
        }
        for i in range(20)
    ]
    results = {"run_id": ref, "tasks": {"tutoring": {"scorer": "tutoring"}}}
    return RunSide(ref, ref, results, items, None)


def test_a_judge_metric_on_one_side_reads_not_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    report = compare_sides(tutoring("base", judged=False), tutoring("cand", judged=True))
    out = io.StringIO()
    monkeypatch.setattr(bench, "console", Console(file=out, width=200, color_system=None))
    bench.print_comparison(report)
    rows = {line.split("│")[1].strip(): line for line in out.getvalue().splitlines() if "│" in line}
    guidance = rows["tutoring.judge_guidance_rate"]
    assert "not compared" in guidance and "no significant change" not in guidance
    assert "improvement" in rows["tutoring.provides_guidance_rate"]
    assert "no significant change" in rows["tutoring.no_answer_reveal_rate"]
    assert "not compared (only one run computed them): tutoring.judge_guidance_rate" in (
        " ".join(out.getvalue().split())
    )


def test_a_narrow_terminal_gets_whole_metric_names_and_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 60 columns the table would cut ``tutoring.no_answer_reveal_rate`` and
    ``no significant change`` short (``tutoring.no_a…``, ``signific…``): one card per metric."""
    report = compare_sides(tutoring("base", judged=False), tutoring("cand", judged=True))
    out = io.StringIO()
    monkeypatch.setattr(bench, "console", Console(file=out, width=60, color_system=None))
    bench.print_comparison(report)
    text = out.getvalue()
    assert "…" not in text
    for name, metric in report["metrics"].items():
        assert name in text.splitlines()
        assert metric["verdict"] in text
