"""``tutorlab train`` (run, list, show, metrics, cancel) and ``tutorlab experiments``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tutorlab.cli.http import UrlOption, client, console, request

app = typer.Typer(no_args_is_help=True)
experiments_app = typer.Typer(no_args_is_help=True)

TERMINAL = {"succeeded", "failed", "cancelled"}
_SET_ID_PREFIX = "ts_"


def _upload_local(
    config: dict[str, Any], base: Path, data_url: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Local data files named in the config go to the data-service as training sets; the config
    then names their ids. Returns the new config and what was uploaded."""
    data = config.get("data")
    if not isinstance(data, dict):
        return config, []
    uploaded = []
    new_data = dict(data)
    for key, part in (("train_file", "train"), ("eval_file", "eval")):
        value = data.get(key)
        if not isinstance(value, str) or value.startswith(_SET_ID_PREFIX):
            continue
        path = Path(value).expanduser()
        for candidate in (path, base / path):
            if candidate.is_file():
                break
        else:
            continue  # not here: the trainer resolves it in its own data directory
        with client("data-service", data_url, timeout=300) as http, candidate.open("rb") as handle:
            created = request(
                http,
                "POST",
                "/training-sets",
                files={"file": (candidate.name, handle, "application/jsonl")},
                data={"name": f"{candidate.stem}"},
            ).json()
        set_id = created["id"]
        # the uploaded file is one part: point train_file at its train part, eval_file at its
        # train part too (it is the whole file)
        new_data[key] = f"{set_id}:train"
        uploaded.append(f"{candidate} -> {set_id} ({part})")
    return {**config, "data": new_data}, uploaded


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return "" if value is None else str(value)


def _live(run: dict[str, Any]) -> str:
    metrics = run.get("latest_metrics") or {}
    parts = []
    for key, label in (
        ("train/nll", "loss"),
        ("reward/mean", "reward"),
        ("distill/kl_to_teacher", "kl"),
        ("eval/nll", "eval nll"),
        ("eval/gsm8k_accuracy", "eval acc"),
    ):
        if metrics.get(key) is not None:
            parts.append(f"{label} {_fmt(metrics[key], 3)}")
    parts.append(f"${run.get('cost_usd', 0.0):.4f}")
    if run.get("phase"):
        parts.append(str(run["phase"]))
    return " · ".join(parts)


def watch(training_id: str, url: str | None, interval: float = 1.0) -> dict[str, Any]:
    """Follow a training with a live bar: step/total, loss or reward, eval accuracy, USD."""
    with (
        client("trainer-service", url) as http,
        Progress(
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[live]}"),
            console=console,
        ) as progress,
    ):
        bar = progress.add_task(training_id, total=None, status="queued", live="")
        while True:
            run = request(
                http, "GET", f"/trainings/{training_id}", params={"wait_s": interval}
            ).json()
            progress.update(
                bar,
                completed=run["step"],
                total=run["total_steps"],
                status=run["job"]["status"],
                live=_live(run),
            )
            if run["job"]["status"] in TERMINAL:
                return dict(run)


def print_training(run: dict[str, Any]) -> None:
    table = Table(title=f"{run['id']} ({run['job']['status']})", show_header=False)
    for key in ("name", "method", "backend", "base_model", "phase", "stopped_reason"):
        if run.get(key):
            table.add_row(key, str(run[key]))
    table.add_row("step", f"{run['step']} / {run['total_steps'] or '?'}")
    table.add_row("cost", f"${run.get('cost_usd', 0.0):.4f}")
    for key, value in sorted((run.get("latest_metrics") or {}).items()):
        table.add_row(key, _fmt(value))
    for key in ("sampler_path", "registered_model", "benchmark_id", "experiment"):
        if run.get(key):
            table.add_row(key, str(run[key]))
    if run["job"].get("error"):
        table.add_row("error", f"[red]{run['job']['error']}[/red]")
    console.print(table)


@app.command("run")
def run(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="YAML or JSON"),
    watch_run: bool = typer.Option(False, "--watch", help="follow the run with a live bar"),
    url: str | None = UrlOption,
    data_url: str | None = typer.Option(None, "--data-url", help="data-service URL for uploads"),
) -> None:
    """Submit a training run. Local data files in the config are uploaded to the data-service
    first and named by their training-set ids."""
    text = config.read_text(encoding="utf-8")
    try:
        parsed = json.loads(text) if config.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        parsed = None  # the trainer reports the syntax error with its line
    kwargs: dict[str, Any]
    if isinstance(parsed, dict):
        replaced, uploaded = _upload_local(parsed, config.parent, data_url)
        for line in uploaded:
            console.print(f"uploaded {line}")
        if uploaded:
            kwargs = {"json": replaced}
        else:
            kwargs = {"content": text.encode(), "headers": _content_type(config)}
    else:
        kwargs = {"content": text.encode(), "headers": _content_type(config)}
    with client("trainer-service", url) as http:
        submitted = request(http, "POST", "/trainings", **kwargs).json()
    console.print(f"submitted [bold]{submitted['id']}[/bold]")
    if not watch_run:
        return
    final = watch(submitted["id"], url)
    print_training(final)
    if final["job"]["status"] != "succeeded":
        raise typer.Exit(1)


def _content_type(path: Path) -> dict[str, str]:
    return {"content-type": "application/json" if path.suffix == ".json" else "application/yaml"}


@app.command("list")
def list_trainings(url: str | None = UrlOption) -> None:
    """Training runs, newest first."""
    with client("trainer-service", url) as http:
        rows = request(http, "GET", "/trainings").json()
    table = Table("id", "name", "method", "backend", "status", "step", "cost")
    for r in rows:
        table.add_row(
            r["id"],
            r["name"],
            r["method"],
            r["backend"],
            r["job"]["status"],
            f"{r['step']}/{r['total_steps'] or '?'}",
            f"${r.get('cost_usd', 0.0):.4f}",
        )
    console.print(table)


@app.command("show")
def show(training_id: str, url: str | None = UrlOption) -> None:
    """One run: status, step, latest metrics, cost, checkpoints."""
    with client("trainer-service", url) as http:
        run = request(http, "GET", f"/trainings/{training_id}").json()
    print_training(run)
    if run.get("checkpoints"):
        table = Table("name", "kind", "step", "path", "expires")
        for c in run["checkpoints"]:
            table.add_row(
                c["name"], c["kind"], str(c["step"]), c["path"], c["expires_at"] or "never"
            )
        console.print(table)


@app.command("metrics")
def metrics(training_id: str, url: str | None = UrlOption) -> None:
    """Every step's metrics, one JSON object a line."""
    with client("trainer-service", url) as http:
        rows = request(http, "GET", f"/trainings/{training_id}/metrics").json()
    for row in rows:
        typer.echo(json.dumps(row))


@app.command("cancel")
def cancel(training_id: str, url: str | None = UrlOption) -> None:
    """Stop after the step in flight, saving a checkpoint."""
    with client("trainer-service", url) as http:
        run = request(http, "DELETE", f"/trainings/{training_id}").json()
    console.print(f"{run['id']}: {run['job']['status']} (cancel requested)")


@experiments_app.command("list")
def list_experiments(url: str | None = UrlOption) -> None:
    """Experiments (one per training run), newest first."""
    with client("trainer-service", url) as http:
        rows = request(http, "GET", "/experiments").json()
    table = Table("id", "name", "method", "status", "cost", "path")
    for r in rows:
        table.add_row(
            r["id"],
            r["name"],
            r["method"],
            r["status"],
            f"${r.get('cost_usd', 0.0):.4f}",
            r["path"],
        )
    console.print(table)


@experiments_app.command("show")
def show_experiment(
    experiment_id: str,
    url: str | None = UrlOption,
    readme: bool = typer.Option(True, help="print the rendered README"),
) -> None:
    """One experiment: its README (or its summary with --no-readme)."""
    with client("trainer-service", url) as http:
        record = request(http, "GET", f"/experiments/{experiment_id}").json()
    if readme and record.get("readme"):
        console.print(record["readme"], markup=False, highlight=False)
        console.print(f"folder: {record['path']}")
    else:
        console.print_json(data={k: v for k, v in record.items() if k != "readme"})
