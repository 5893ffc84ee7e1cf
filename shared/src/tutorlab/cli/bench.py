"""``tutorlab bench run|list|show|compare``: benchmarks in eval-service."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tutorlab.cli.http import UrlOption, client, console, request
from tutorlab.cli.models import parse_params

app = typer.Typer(no_args_is_help=True)
TERMINAL = {"succeeded", "failed", "cancelled"}


def _fmt(value: Any, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if pct else f"{value:.3g}"


def metrics_table(metrics: dict[str, dict[str, Any]], title: str = "metrics") -> Table:
    table = Table("task", "metric", "n", "value", "95% CI", title=title)
    for task, values in metrics.items():
        for name, m in values.items():
            ci = "-" if m.get("ci_low") is None else f"[{m['ci_low']:.1%}, {m['ci_high']:.1%}]"
            table.add_row(task, name, str(m.get("n", "-")), _fmt(m.get("mean")), ci)
    return table


def _running_accuracy(run: dict[str, Any]) -> str:
    parts = []
    for task, values in (run.get("metrics") or {}).items():
        for name in ("accuracy", "no_answer_reveal_rate", "refusal_rate", "over_refusal_rate"):
            if name in values and values[name].get("mean") is not None:
                parts.append(f"{task} {values[name]['mean']:.0%}")
                break
    return " · ".join(parts)


def watch(run_id: str, url: str | None, interval: float = 1.0) -> dict[str, Any]:
    """Follow a run with a live bar (done/total, rate, ETA, running accuracy) until it ends.
    Each request is a long poll of ``interval`` seconds: the bar moves every interval and the
    summary comes the moment the run ends."""
    with (
        client("eval-service", url) as http,
        Progress(
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[acc]}"),
            console=console,
        ) as progress,
    ):
        bar = progress.add_task(run_id, total=None, status="queued", rate="", acc="")
        started = time.monotonic()
        first_done: int | None = None
        while True:
            run: dict[str, Any] = request(
                http, "GET", f"/benchmarks/{run_id}", params={"wait_s": interval}
            ).json()
            done, total = run["progress"]["done"], run["progress"]["total"]
            if first_done is None and run["status"] == "running":
                first_done, started = done, time.monotonic()
            elapsed = time.monotonic() - started
            rate = (
                (done - (first_done or 0)) / elapsed
                if elapsed > 0 and first_done is not None
                else 0
            )
            progress.update(
                bar,
                completed=done,
                total=total,
                status=run["status"],
                rate=f"{rate:.1f} items/s" if rate else "",
                acc=_running_accuracy(run),
            )
            if run["status"] in TERMINAL:
                return run


def print_summary(run: dict[str, Any]) -> None:
    console.print(metrics_table(run.get("metrics") or {}, title=f"{run['id']} ({run['status']})"))
    result = run.get("result") or {}
    if result.get("results_path"):
        console.print(f"results: {result['results_path']}")
    if result.get("comparison_path"):
        console.print(f"comparison: {result['comparison_path']}")
    if run.get("error"):
        console.print(f"[red]{run['error']}[/red]")


@app.command("run")
def run(
    model: str | None = typer.Option(None, help="registered model name"),
    suite: str | None = typer.Option(None, help="quick | standard | comprehensive"),
    task: list[str] = typer.Option([], help="custom task (repeatable) instead of a suite"),
    limit: int | None = typer.Option(None, help="items per task (seeded sample)"),
    seed: int | None = typer.Option(None),
    target: str = typer.Option("model", help="model | tutor-api (benchmark through /chat)"),
    compare_to: str | None = typer.Option(None, help="baseline run id or results file"),
    concurrency: int | None = typer.Option(None, help="override the endpoint's max_concurrency"),
    label: str | None = typer.Option(None, help="output folder name (default: model name)"),
    no_cache: bool = typer.Option(False, help="do not reuse cached responses"),
    rescore: bool = typer.Option(
        False, help="score cached replies again instead of reusing an identical earlier run"
    ),
    param: list[str] = typer.Option([], help="sampling override key=value (repeatable)"),
    watch_run: bool = typer.Option(False, "--watch", help="follow progress until done"),
    url: str | None = UrlOption,
) -> None:
    """Submit a benchmark."""
    body: dict[str, Any] = {"target": target}
    for key, value in {
        "model": model,
        "suite": suite,
        "tasks": task or None,
        "limit": limit,
        "seed": seed,
        "compare_to": compare_to,
        "concurrency": concurrency,
        "label": label,
    }.items():
        if value is not None:
            body[key] = value
    if no_cache:
        body["no_cache"] = True
    if rescore:
        body["rescore"] = True
    if param:
        body["params"] = parse_params(param)
    with client("eval-service", url) as http:
        submitted = request(http, "POST", "/benchmarks", json=body).json()
    console.print(f"submitted [bold]{submitted['id']}[/bold]")
    if not watch_run:
        return
    final = watch(submitted["id"], url)
    print_summary(final)
    if final["status"] != "succeeded":
        raise typer.Exit(1)


@app.command("list")
def list_runs(url: str | None = UrlOption) -> None:
    """Recent benchmark runs."""
    with client("eval-service", url) as http:
        runs = request(http, "GET", "/benchmarks").json()
    table = Table("id", "status", "model", "suite/tasks", "progress", "headline")
    for r in runs:
        params = r["params"]
        headline = ", ".join(f"{k} {_fmt(v)}" for k, v in (r.get("headline") or {}).items())
        table.add_row(
            r["id"],
            r["status"],
            str(params.get("model") or params.get("target")),
            str(params.get("suite") or ",".join(params.get("tasks") or [])),
            f"{r['progress']['done']}/{r['progress']['total'] or '?'}",
            headline,
        )
    console.print(table)


@app.command("show")
def show(run_id: str, url: str | None = UrlOption) -> None:
    """A run's status and metrics."""
    with client("eval-service", url) as http:
        print_summary(request(http, "GET", f"/benchmarks/{run_id}").json())


@app.command("compare")
def compare(
    baseline: str = typer.Argument(..., help="baseline run id or results file"),
    candidate: str = typer.Argument(..., help="candidate run id or results file"),
    url: str | None = UrlOption,
) -> None:
    """Paired comparison: what improved, what regressed, and whether it is real."""
    body = {"baseline": _ref(baseline), "candidate": _ref(candidate)}
    with client("eval-service", url, timeout=600) as http:
        report = request(http, "POST", "/comparisons", json=body).json()
    print_comparison(report)


def _ref(value: str) -> str:
    path = Path(value)
    return str(path.resolve()) if path.exists() else value


def print_comparison(report: dict[str, Any]) -> None:
    table = Table("metric", "baseline", "candidate", "delta", "95% CI", "p (Holm)", "verdict")
    # "not compared": a metric one run never computed (e.g. a judge metric), never a verdict
    colors = {"improvement": "green", "regression": "red", "not compared": "dim"}
    for name, m in report.get("metrics", {}).items():
        ci = "-" if m.get("ci_low") is None else f"[{m['ci_low']:+.1%}, {m['ci_high']:+.1%}]"
        verdict = m.get("verdict", "")
        color = colors.get(verdict)
        table.add_row(
            name,
            _fmt(m.get("baseline_mean")),
            _fmt(m.get("candidate_mean")),
            "-" if m.get("delta") is None else f"{m['delta']:+.1%}",
            ci,
            _fmt(m.get("adjusted_p_value"), pct=False),
            f"[{color}]{verdict}[/{color}]" if color else verdict,
        )
    console.print(table)
    for note in report.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}")
    if report.get("path"):
        console.print(f"comparison: {report['path']}")
