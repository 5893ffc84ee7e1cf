"""An experiment folder: ``<data dir>/experiments/<method>/<run-name>/``, the record a team keeps.

It holds ``config.yaml`` (the config as run, defaults filled in), ``metrics.jsonl`` (one line a
step), ``checkpoints.jsonl``, ``experiment.json`` (the summary the API serves), the benchmark's
``benchmark_results.json`` and ``comparison.json`` when there is one, and a rendered
``README.md``. The JSONL files are rewritten from the database on a resume, so a step re-run
after a crash never appears twice.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import yaml

_README = jinja2.Environment(
    loader=jinja2.PackageLoader("trainer_service", "templates"),
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:80] or "run"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Experiment:
    def __init__(self, root: Path, method: str, run_name: str) -> None:
        self.method = method
        self.run_name = slug(run_name)
        self.path = root / slug(method) / self.run_name
        self.path.mkdir(parents=True, exist_ok=True)

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoints_file(self) -> Path:
        return self.path / "checkpoints.jsonl"

    def write_config(self, config: Mapping[str, Any]) -> None:
        _write_atomic(self.path / "config.yaml", yaml.safe_dump(dict(config), sort_keys=False))

    def append_metrics(self, step: int, metrics: Mapping[str, Any]) -> None:
        with self.metrics_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, **metrics}) + "\n")

    def append_checkpoint(self, record: Mapping[str, Any]) -> None:
        stamped = {**record, "created_at": datetime.now(UTC).isoformat()}
        with self.checkpoints_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(stamped) + "\n")

    def rewrite(
        self, metrics: Iterable[Mapping[str, Any]], checkpoints: Iterable[Mapping[str, Any]]
    ) -> None:
        """Make the JSONL files exactly what the database holds (after a resume)."""
        _write_atomic(self.metrics_file, "".join(json.dumps(dict(m)) + "\n" for m in metrics))
        _write_atomic(
            self.checkpoints_file, "".join(json.dumps(dict(c)) + "\n" for c in checkpoints)
        )

    def write_json(self, name: str, data: Any) -> None:
        _write_atomic(self.path / name, json.dumps(data, indent=2, default=str) + "\n")

    def read_json(self, name: str) -> Any:
        path = self.path / name
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def render_readme(self, summary: Mapping[str, Any]) -> str:
        text = _README.get_template("experiment_readme.md.j2").render(**readme_context(summary))
        _write_atomic(self.path / "README.md", text)
        return text


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else "n/a"


def readme_context(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What the README template shows, from the experiment summary."""
    results: Mapping[str, Any] = summary.get("benchmark_results") or {}
    metrics: Mapping[str, Any] = results.get("metrics") or {}

    def metric(task: str, name: str) -> str:
        value = (metrics.get(task) or {}).get(name)
        return _pct(value.get("mean")) if isinstance(value, dict) else "n/a"

    comparison: Mapping[str, Any] = summary.get("comparison") or {}
    verdicts = [
        {
            "metric": name,
            "verdict": m.get("verdict", "?"),
            "delta": m.get("difference", m.get("delta")),
        }
        for name, m in sorted((comparison.get("metrics") or {}).items())
        if isinstance(m, dict)
    ]
    return {
        "s": summary,
        "math": {
            "gsm8k": metric("gsm8k", "accuracy"),
            "math": metric("math", "accuracy"),
        },
        "tutoring": {
            "guidance": metric("tutoring", "provides_guidance_rate"),
            "no_reveal": metric("tutoring", "no_answer_reveal_rate"),
        },
        "safety": {
            "refusal": metric("safety", "refusal_rate"),
            "over_refusal": metric("over_refusal", "over_refusal_rate"),
        },
        "verdicts": verdicts,
        "pct": _pct,
    }


#: the columns a README's training curve shows, when the run has them
CURVE_COLUMNS = (
    "train/nll",
    "reward/mean",
    "reward/accuracy",
    "distill/kl_to_teacher",
    "eval/nll",
    "eval/gsm8k_accuracy",
    "eval/no_reveal_rate",
    "cost/cumulative_usd",
)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def curve(rows: Sequence[Any], points: int = 20) -> dict[str, Any] | None:
    """About ``points`` rows of the run's metrics (always the last) for the README's table;
    ``rows`` have ``step`` and ``metrics``."""
    if not rows:
        return None
    columns = [k for k in CURVE_COLUMNS if any(r.metrics.get(k) is not None for r in rows)]
    every = max(1, len(rows) // points)
    shown = [r for i, r in enumerate(rows) if i % every == 0 or i == len(rows) - 1]
    return {
        "columns": columns,
        "rows": [
            {"step": r.step, "cells": {k: _cell(r.metrics.get(k)) for k in columns}} for r in shown
        ],
    }
