"""``tutorlab train`` (run, list, show, metrics, cancel) and ``tutorlab experiments``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tutorlab.cli.http import call, client, console, request, url_flag, url_option
from tutorlab.cli.options import (
    JsonOption,
    OffsetOption,
    StatusOption,
    WatchOption,
    limit_option,
    page,
)
from tutorlab.cli.output import announce, emit, human, table, watching

app = typer.Typer(no_args_is_help=True)
experiments_app = typer.Typer(no_args_is_help=True)
SERVICE = "trainer-service"
UrlOption = url_option(SERVICE)
TrainingIdArgument = typer.Argument(..., help="training run id (train_…)")

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


def _cancel_hint(training_id: str, url: str | None) -> str:
    return f"tutorlab train cancel {training_id}{url_flag(url)}"


def _follow_hint(training_id: str, url: str | None) -> str:
    return f"tutorlab train show {training_id}{url_flag(url)} --watch"


def watch(
    training_id: str, url: str | None, interval: float = 1.0, bar_console: Console | None = None
) -> dict[str, Any]:
    """Follow a training with a live bar: step/total, loss or reward, eval accuracy, USD.
    Ctrl-C stops the following only, and says how to cancel the run."""
    with (
        watching(
            f"training run {training_id}",
            cancel=_cancel_hint(training_id, url),
            follow=_follow_hint(training_id, url),
        ),
        client(SERVICE, url, timeout=interval + 60) as http,
        Progress(
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[live]}"),
            console=bar_console or console,
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
    grid = Table(title=f"{run['id']} ({run['job']['status']})", show_header=False)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for key in ("name", "method", "backend", "base_model", "phase", "stopped_reason"):
        if run.get(key):
            grid.add_row(key, str(run[key]))
    grid.add_row("step", f"{run['step']} / {run['total_steps'] or '?'}")
    grid.add_row("cost", f"${run.get('cost_usd', 0.0):.4f}")
    for key, value in sorted((run.get("latest_metrics") or {}).items()):
        grid.add_row(key, _fmt(value))
    for key in ("sampler_path", "registered_model", "benchmark_id", "experiment"):
        if run.get(key):
            grid.add_row(key, str(run[key]))
    if run["job"].get("error"):
        grid.add_row("error", f"[red]{run['job']['error']}[/red]")
    console.print(grid)


@app.command("run")
def run(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="YAML or JSON"),
    watch_run: bool = WatchOption,
    url: str | None = UrlOption,
    data_url: str | None = typer.Option(
        None,
        "--data-url",
        help="data-service base URL, for uploading local data files "
        "(default: $DATA_SERVICE_URL, else http://127.0.0.1:${DATA_SERVICE_PORT:-8002})",
        show_default=False,
    ),
    as_json: bool = JsonOption,
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
            human(as_json).print(f"uploaded {line}", highlight=False)
        if uploaded:
            kwargs = {"json": replaced}
        else:
            kwargs = {"content": text.encode(), "headers": _content_type(config)}
    else:
        kwargs = {"content": text.encode(), "headers": _content_type(config)}
    submitted = call(SERVICE, url, "POST", "/trainings", **kwargs)
    training_id = submitted["id"]
    if not watch_run:
        announce(
            submitted,
            as_json,
            follow=_follow_hint(training_id, url),
            cancel=_cancel_hint(training_id, url),
        )
        return
    human(as_json).print(f"submitted [bold]{training_id}[/bold]")
    final = watch(training_id, url, bar_console=human(as_json))
    emit(final, as_json, print_training)
    if final["job"]["status"] != "succeeded":
        raise typer.Exit(1)


def _content_type(path: Path) -> dict[str, str]:
    return {"content-type": "application/json" if path.suffix == ".json" else "application/yaml"}


@app.command("list")
def list_trainings(
    status: str | None = StatusOption,
    limit: int = limit_option(50, 500),
    offset: int = OffsetOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Training runs, newest first."""
    rows = call(
        SERVICE,
        url,
        "GET",
        "/trainings",
        params=page(limit, offset, status=status),
        flags={"status": "--status"},
    )
    emit(rows, as_json, _print_trainings)


def _print_trainings(rows: list[dict[str, Any]]) -> None:
    body = [
        (
            r["id"],
            r["name"],
            r["method"],
            r["backend"],
            r["job"]["status"],
            f"{r['step']}/{r['total_steps'] or '?'}",
            f"${r.get('cost_usd', 0.0):.4f}",
        )
        for r in rows
    ]
    console.print(table(("id", "name", "method", "backend", "status", "step", "cost"), body))


@app.command("show")
def show(
    training_id: str = TrainingIdArgument,
    watch_run: bool = WatchOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """One run: status, step, latest metrics, cost, checkpoints."""
    if watch_run:
        run = watch(training_id, url, bar_console=human(as_json))
    else:
        run = call(SERVICE, url, "GET", f"/trainings/{training_id}")
    emit(run, as_json, _print_with_checkpoints)


def _print_with_checkpoints(run: dict[str, Any]) -> None:
    print_training(run)
    if run.get("checkpoints"):
        rows = [
            (c["name"], c["kind"], str(c["step"]), c["path"], c["expires_at"] or "never")
            for c in run["checkpoints"]
        ]
        console.print(table(("name", "kind", "step", "path", "expires"), rows, ids=("name",)))


@app.command("metrics")
def metrics(
    training_id: str = TrainingIdArgument,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Every step's metrics, one JSON object a line (--json: one JSON list)."""
    rows = call(SERVICE, url, "GET", f"/trainings/{training_id}/metrics")
    emit(
        rows,
        as_json,
        lambda data: typer.echo("".join(json.dumps(r) + "\n" for r in data), nl=False),
    )


@app.command("cancel")
def cancel(
    training_id: str = TrainingIdArgument,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Stop after the step in flight, saving a checkpoint."""
    run = call(SERVICE, url, "DELETE", f"/trainings/{training_id}")
    emit(
        run,
        as_json,
        lambda data: console.print(f"{data['id']}: {data['job']['status']} (cancel requested)"),
    )


@experiments_app.command("list")
def list_experiments(
    limit: int = limit_option(50, 500),
    offset: int = OffsetOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Experiments (one per training run), newest first."""
    rows = call(SERVICE, url, "GET", "/experiments", params=page(limit, offset))
    emit(rows, as_json, _print_experiments)


def _print_experiments(rows: list[dict[str, Any]]) -> None:
    body = [
        (
            r["id"],
            r["name"],
            r["method"],
            r["status"],
            f"${r.get('cost_usd', 0.0):.4f}",
            r["path"],
        )
        for r in rows
    ]
    console.print(table(("id", "name", "method", "status", "cost", "path"), body))


@experiments_app.command("show")
def show_experiment(
    experiment_id: str = typer.Argument(..., help="experiment id (its training run's id)"),
    url: str | None = UrlOption,
    readme: bool = typer.Option(
        True, "--readme/--no-readme", help="print the rendered README (else the summary)"
    ),
    as_json: bool = JsonOption,
) -> None:
    """One experiment: its README (or its summary with --no-readme)."""
    record = call(SERVICE, url, "GET", f"/experiments/{experiment_id}")
    emit(record, as_json, lambda data: _print_experiment(data, readme))


def _print_experiment(record: dict[str, Any], readme: bool) -> None:
    if readme and record.get("readme"):
        console.print(record["readme"], markup=False, highlight=False)
        console.print(f"folder: {record['path']}")
    else:
        console.print_json(data={k: v for k, v in record.items() if k != "readme"})
