"""Score outputs made elsewhere: JSONL lines with ``question`` or ``id``, ``response``, ``gold``.

Shared by ``POST /score`` and ``tutorlab score`` so both read and judge lines the same way.
A line that can't be scored is reported with its line number; nothing is silently dropped. A line
whose scoring raised gets the verdict ``scoring_failed`` and its cause as ``error``
(:mod:`tutorlab.scoring.offload`, which also keeps the scoring off the caller's event loop).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tutorlab.datasets.records import DatasetRecord
from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.scoring.offload import score_batch
from tutorlab.scoring.tasks import TASK_SCORERS, ScoreInput

NEEDS_GOLD = {"gsm8k", "math", "tutoring"}


@dataclass
class LineProblem:
    line: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


def parse_lines(lines: Iterable[str]) -> tuple[list[tuple[int, dict[str, Any]]], list[LineProblem]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[LineProblem] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(LineProblem(number, None, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(row, dict):
            problems.append(LineProblem(number, None, "not a JSON object"))
            continue
        rows.append((number, row))
    return rows, problems


async def score_rows(
    task: str,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    verifier: MathVerifier | None,
    lookup: Callable[[str], DatasetRecord | None] | None = None,
) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Verdicts for each valid row (with its line number), and every row's problems."""
    if task not in TASK_SCORERS:
        raise ValueError(f"task: unknown task {task!r}; known: {', '.join(TASK_SCORERS)}")
    inputs: list[ScoreInput] = []
    kept: list[tuple[int, Mapping[str, Any]]] = []
    problems: list[LineProblem] = []
    for number, row in rows:
        response = row.get("response")
        if not isinstance(response, str):
            problems.append(LineProblem(number, "response", "missing or not a string"))
            continue
        gold = row.get("gold")
        if gold is not None and not isinstance(gold, str | int | float):
            problems.append(LineProblem(number, "gold", "must be a string or a number"))
            continue
        question = row.get("question")
        if gold is None and task in NEEDS_GOLD and row.get("id") is not None and lookup:
            record = lookup(str(row["id"]))
            if record is None:
                problems.append(LineProblem(number, "id", f"unknown item id {row['id']!r}"))
                continue
            gold, question = record.answer, question or record.question
        if gold is None and task in NEEDS_GOLD:
            problems.append(
                LineProblem(number, "gold", "missing: give gold, or an id known to the dataset")
            )
            continue
        context = [str(question)] if question else []
        if isinstance(row.get("student_message"), str):
            context.append(row["student_message"])
        inputs.append(ScoreInput(response, None if gold is None else str(gold), context))
        kept.append((number, row))
    scored = await score_batch(task, inputs, verifier)
    results = [
        {"line": number, "id": row.get("id"), "verdict": headline, **verdicts}
        for (number, row), (verdicts, headline) in zip(kept, scored, strict=True)
    ]
    return results, problems


def summarize(results: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per metric: n and mean over the rows where it applies."""
    totals: dict[str, list[int]] = {}
    for result in results:
        for name, value in (result.get("metrics") or {}).items():
            if value is not None:
                totals.setdefault(name, [0, 0])
                totals[name][0] += 1
                totals[name][1] += int(bool(value))
    return {
        name: {"n": n, "mean": round(hits / n, 6) if n else None}
        for name, (n, hits) in sorted(totals.items())
    }
