"""``tutorlab score``: the benchmark scorers on outputs made elsewhere, offline."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import typer

from tutorlab.cli.http import console, err_console, fail
from tutorlab.cli.options import JsonOption
from tutorlab.cli.output import emit_json
from tutorlab.datasets.mirror import MirrorError, load_mirror
from tutorlab.datasets.records import DatasetRecord
from tutorlab.scoring import MathVerifier
from tutorlab.scoring.offline import LineProblem, parse_lines, score_rows, summarize
from tutorlab.scoring.tasks import TASK_SCORERS


def _lookup(task: str, mirror: str | None) -> dict[str, DatasetRecord]:
    if task not in ("gsm8k", "math") or not mirror:
        return {}
    try:
        records, _ = load_mirror(Path(mirror), task, "test")
    except MirrorError as exc:
        fail(str(exc))
    return {r.id: r for r in records}


def score(
    task: str = typer.Option(..., help=" | ".join(TASK_SCORERS)),
    input_path: Path = typer.Option(
        ...,
        "--input",
        exists=True,
        dir_okay=False,
        help="JSONL, a line {question|id, response, gold?}",
    ),
    output: Path | None = typer.Option(None, help="write one verdict line per input line"),
    mirror: str | None = typer.Option(
        None, help="dataset mirror for gold lookup by id (default TUTORLAB_DATASET_MIRROR)"
    ),
    as_json: bool = JsonOption,
) -> None:
    """Score JSONL lines {question|id, response, gold?}; exit 1 if any line can't be scored."""
    if task not in TASK_SCORERS:
        fail(f"--task must be one of {', '.join(TASK_SCORERS)}")
    rows, problems = parse_lines(input_path.read_text(encoding="utf-8").splitlines())
    records = _lookup(task, mirror or os.environ.get("TUTORLAB_DATASET_MIRROR"))

    async def run() -> tuple[list[dict[str, Any]], list[LineProblem]]:
        verifier = MathVerifier(workers=2) if task == "math" else None
        try:
            return await score_rows(task, rows, verifier=verifier, lookup=records.get)
        finally:
            if verifier is not None:
                verifier.close()

    results, row_problems = asyncio.run(run())
    problems.extend(row_problems)
    if output is not None:
        output.write_text("".join(json.dumps(r, default=str) + "\n" for r in results))
    summary = {"task": task, "n": len(results), "metrics": summarize(results)}
    if as_json:
        emit_json(summary)
    else:
        console.print_json(data=summary)
    for problem in sorted(problems, key=lambda p: p.line):
        where = f"line {problem.line}" + (f", field {problem.field}" if problem.field else "")
        err_console.print(f"[red]{where}:[/red] {problem.message}")
    if problems:
        raise typer.Exit(1)
