"""``tutorlab bench …``: benchmarks in eval-service (run, list, show, items, results, cancel,
tasks, suites, compare, comparisons, comparison)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tutorlab.cli.http import call, client, console, fail, request, url_flag, url_option
from tutorlab.cli.jobs import print_cancelled
from tutorlab.cli.options import (
    CacheEpochOption,
    JsonOption,
    OffsetOption,
    StatusOption,
    WatchOption,
    limit_option,
    page,
)
from tutorlab.cli.output import announce, emit, human, table, watching
from tutorlab.cli.params import ExtraParamOption, ParamOption, parse_params

app = typer.Typer(no_args_is_help=True)
TERMINAL = {"succeeded", "failed", "cancelled"}
SERVICE = "eval-service"
UrlOption = url_option(SERVICE)
RunIdArgument = typer.Argument(..., help="benchmark run id (bench_…)")

#: POST /benchmarks fields -> the flags of ``bench run`` that set them (named in its errors)
RUN_FLAGS = {
    "model": "--model",
    "target": "--target",
    "suite": "--suite",
    "tasks": "--tasks",
    "limit": "--limit",
    "seed": "--seed",
    "params": "--param",
    "concurrency": "--concurrency",
    "request_timeout_s": "--request-timeout",
    "request_deadline_s": "--request-deadline",
    "no_cache": "--no-cache",
    "cache_epoch": "--cache-epoch",
    "epochs": "--epochs",
    "reducers": "--reducers",
    "rescore": "--rescore",
    "error_threshold": "--error-threshold",
    "judge": "--judge",
    "compare_to": "--compare-to",
    "label": "--label",
}


def _fmt(value: Any, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if pct else f"{value:.3g}"


def _trust(entry: Any) -> str:
    """A metric's scorer and its published kappa (results' ``metric_validation``)."""
    if not isinstance(entry, dict):
        return "-"
    kappa = entry.get("kappa")
    return f"{entry.get('scorer', '?')} {'-' if kappa is None else f'{kappa:.2f}'}"


def metrics_table(
    metrics: dict[str, dict[str, Any]],
    title: str = "metrics",
    validation: dict[str, dict[str, Any]] | None = None,
) -> Table:
    """With ``validation`` (a run's ``metric_validation``), a column with each metric's
    scorer (rules, scorer, judge) and the kappa its validation card published."""
    columns = ("task", "metric", "n", "value", "95% CI")
    table = Table(*columns, *(("scorer \u03ba",) if validation else ()), title=title)
    for task, values in metrics.items():
        for name, m in values.items():
            ci = "-" if m.get("ci_low") is None else f"[{m['ci_low']:.1%}, {m['ci_high']:.1%}]"
            row = [task, name, str(m.get("n", "-")), _fmt(m.get("mean")), ci]
            if validation:
                row.append(_trust((validation.get(task) or {}).get(name)))
            table.add_row(*row)
    return table


def _running_accuracy(run: dict[str, Any]) -> str:
    parts = []
    for task, values in (run.get("metrics") or {}).items():
        for name in ("accuracy", "no_answer_reveal_rate", "refusal_rate", "over_refusal_rate"):
            if name in values and values[name].get("mean") is not None:
                parts.append(f"{task} {values[name]['mean']:.0%}")
                break
    return " · ".join(parts)


def _cancel_hint(run_id: str, url: str | None) -> str:
    return f"tutorlab bench cancel {run_id}{url_flag(url)}"


def _follow_hint(run_id: str, url: str | None) -> str:
    return f"tutorlab bench show {run_id}{url_flag(url)} --watch"


def watch(
    run_id: str, url: str | None, interval: float = 1.0, bar_console: Console | None = None
) -> dict[str, Any]:
    """Follow a run with a live bar (done/total, rate, ETA, running accuracy) until it ends.
    Each request is a long poll of ``interval`` seconds: the bar moves every interval and the
    summary comes the moment the run ends. Ctrl-C stops the following only, and says so."""
    with (
        watching(
            f"benchmark run {run_id}",
            cancel=_cancel_hint(run_id, url),
            follow=_follow_hint(run_id, url),
        ),
        client(SERVICE, url, timeout=interval + 60) as http,
        Progress(
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[acc]}"),
            console=bar_console or console,
        ) as progress,
    ):
        bar = progress.add_task(run_id, total=None, status="queued", rate="", acc="")
        return _follow(http, run_id, interval, progress, bar)


def _follow(
    http: httpx.Client, run_id: str, interval: float, progress: Progress, bar: Any
) -> dict[str, Any]:
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
        rate = (done - (first_done or 0)) / elapsed if elapsed > 0 and first_done is not None else 0
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
    out = console
    result = run.get("result") or {}
    title = f"{run['id']} ({run['status']})"
    out.print(metrics_table(run.get("metrics") or {}, title, result.get("metric_validation")))
    if result.get("results_path"):
        out.print(f"results: {result['results_path']}", highlight=False)
    if result.get("comparison_path"):
        out.print(f"comparison: {result['comparison_path']}", highlight=False)
    if run.get("error"):
        out.print(f"[red]{run['error']}[/red]")


def _names(values: list[str]) -> list[str]:
    """Repeated and comma-separated values as one list: ``-t a,b -t c`` -> a, b, c."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


TASK_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def _task_file(value: str) -> Path | None:
    """``value`` as a task file on this machine (YAML or JSON), or None when it is a name."""
    path = Path(value).expanduser()
    return path if path.suffix.lower() in TASK_FILE_SUFFIXES and path.is_file() else None


def register_task_file(http: httpx.Client, path: Path) -> dict[str, Any]:
    """``POST /tasks`` with a task file's bytes; an error names the file (and the service its
    field and line)."""
    media = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
    response = request(
        http,
        "POST",
        "/tasks",
        about=str(path),
        content=path.read_bytes(),
        headers={"content-type": media},
    )
    return dict(response.json())


def _selection(
    http: httpx.Client, suite: str | None, tasks: list[str], out: Console
) -> tuple[str | None, list[str] | None]:
    """``--suite`` and ``--tasks`` (comma-separated, repeatable) as the API's ``suite`` and
    ``tasks``: a suite's name given alone to ``--tasks`` selects that suite, as in lm-eval; a
    task file (``./my_task.yaml``) is registered first and run by its name."""
    names = []
    for name in _names(tasks):
        path = _task_file(name)
        if path is not None:
            task = register_task_file(http, path)
            name = _task_name(task)
            out.print(f"task [bold]{name}[/bold] {task['version']} from {path}", highlight=False)
        names.append(name)
    if suite is not None or not names:
        return suite, names or None
    suites = request(http, "GET", "/suites").json()
    chosen = [name for name in names if name in suites]
    if not chosen:
        return None, names
    if len(names) > 1:
        fail(
            f"--tasks: {', '.join(chosen)} is a suite; give a suite alone "
            "(--tasks quick, or --suite quick) or a list of tasks"
        )
    return chosen[0], None


@app.command("run")
def run(
    model: str | None = typer.Option(
        None, help="registered model name (with --target tutor-api: its backing model)"
    ),
    suite: str | None = typer.Option(
        None, help="quick | standard | comprehensive (see: tutorlab bench suites)"
    ),
    tasks: list[str] = typer.Option(
        [],
        "--tasks",
        "--task",
        "-t",
        help="tasks instead of a suite: a,b or repeated (see: tutorlab bench tasks); a task "
        "file (./my_task.yaml) is registered first; a suite's name alone selects that suite",
        show_default=False,
    ),
    limit: int | None = typer.Option(None, min=1, help="items per task (a seeded sample)"),
    seed: int | None = typer.Option(
        None,
        help="seed of the --limit sample (default: the suite's, else 0); the sampling seed "
        "is --param seed=N",
    ),
    target: str = typer.Option("model", help="model | tutor-api (benchmark through /chat)"),
    judge: str | None = typer.Option(
        None, help="registered model that also judges tutoring and safety replies"
    ),
    compare_to: str | None = typer.Option(
        None, help="baseline run id or results file: compare when the run ends"
    ),
    concurrency: int | None = typer.Option(
        None, min=1, max=1024, help="parallel requests (default: the endpoint's max_concurrency)"
    ),
    request_timeout: float | None = typer.Option(
        None, help="seconds one request may take (default: 300)", show_default=False
    ),
    request_deadline: float | None = typer.Option(
        None,
        help="seconds an item may take over all its retries (default: 900)",
        show_default=False,
    ),
    error_threshold: float | None = typer.Option(
        None,
        min=0.0,
        max=1.0,
        help="the run fails when more than this share of items fail (default: 0.10)",
        show_default=False,
    ),
    label: str | None = typer.Option(
        None, help="output folder name (default: the model name); each run has its own folder"
    ),
    cache: bool = typer.Option(
        True, "--cache/--no-cache", help="reuse cached replies to identical requests"
    ),
    rescore: bool = typer.Option(
        False,
        "--rescore",
        help="score cached replies again instead of reusing an identical earlier run",
    ),
    epochs: int | None = typer.Option(
        None,
        min=1,
        max=100,
        help="samples per item, each with its own seed (more than 1 needs --param "
        "temperature=… above 0) (default: 1)",
        show_default=False,
    ),
    reducers: list[str] = typer.Option(
        [],
        "--reducers",
        "--epochs-reducer",
        help="how an item's samples reduce to its score: mean, pass@k, maj@k (k <= --epochs); "
        "a,b or repeated; the first is what comparisons pair (default: mean)",
        show_default=False,
    ),
    cache_epoch: int | None = CacheEpochOption,
    param: list[str] = ParamOption,
    extra_param: list[str] = ExtraParamOption,
    watch_run: bool = WatchOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Submit a benchmark: a suite or tasks against a registered model."""
    body: dict[str, Any] = {"target": target}
    with client(SERVICE, url) as http:
        selected_suite, selected_tasks = _selection(http, suite, tasks, human(as_json))
        for key, value in {
            "model": model,
            "suite": selected_suite,
            "tasks": selected_tasks,
            "limit": limit,
            "seed": seed,
            "judge": judge,
            "compare_to": compare_to,
            "concurrency": concurrency,
            "request_timeout_s": request_timeout,
            "request_deadline_s": request_deadline,
            "error_threshold": error_threshold,
            "label": label,
            "epochs": epochs,
            "reducers": _names(reducers) or None,
            "cache_epoch": cache_epoch,
        }.items():
            if value is not None:
                body[key] = value
        if not cache:
            body["no_cache"] = True
        if rescore:
            body["rescore"] = True
        if param or extra_param:
            body["params"] = parse_params(param, extra_param)
        submitted = request(http, "POST", "/benchmarks", json=body, flags=RUN_FLAGS).json()
    run_id = submitted["id"]
    if not watch_run:
        announce(
            submitted,
            as_json,
            follow=_follow_hint(run_id, url),
            cancel=_cancel_hint(run_id, url),
        )
        return
    human(as_json).print(f"submitted [bold]{run_id}[/bold]")
    final = watch(run_id, url, bar_console=human(as_json))
    emit(final, as_json, print_summary)
    if final["status"] != "succeeded":
        raise typer.Exit(1)


@app.command("list")
def list_runs(
    status: str | None = StatusOption,
    limit: int = limit_option(50, 500),
    offset: int = OffsetOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Recent benchmark runs, newest first."""
    runs = call(
        SERVICE,
        url,
        "GET",
        "/benchmarks",
        params=page(limit, offset, status=status),
        flags={"status": "--status"},
    )
    emit(runs, as_json, _print_runs)


def _print_runs(runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        params = r["params"]
        headline = ", ".join(f"{k} {_fmt(v)}" for k, v in (r.get("headline") or {}).items())
        rows.append(
            (
                r["id"],
                r["status"],
                str(params.get("model") or params.get("target")),
                str(params.get("suite") or ",".join(params.get("tasks") or [])),
                f"{r['progress']['done']}/{r['progress']['total'] or '?'}",
                headline,
            )
        )
    console.print(table(("id", "status", "model", "suite/tasks", "progress", "headline"), rows))


@app.command("show")
def show(
    run_id: str = RunIdArgument,
    watch_run: bool = WatchOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A run's status and metrics (so far, while it runs)."""
    if watch_run:
        run = watch(run_id, url, bar_console=human(as_json))
    else:
        run = call(SERVICE, url, "GET", f"/benchmarks/{run_id}")
    emit(run, as_json, print_summary)


@app.command("items")
def items(
    run_id: str = RunIdArgument,
    task: str | None = typer.Option(None, help="only this task's items"),
    verdict: str | None = typer.Option(None, help="only this verdict (e.g. correct, incorrect)"),
    status: str | None = typer.Option(
        None, help="ok (scored) | error (failed: no reply, or its scoring failed)"
    ),
    offset: int = OffsetOption,
    limit: int = typer.Option(50, min=1, max=1000, help="at most this many"),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A run's scored items: verdict, extracted answer, reply (a page; --json: every field)."""
    found = call(
        SERVICE,
        url,
        "GET",
        f"/benchmarks/{run_id}/items",
        params=page(limit, offset, task=task, verdict=verdict, status=status),
        flags={"status": "--status", "offset": "--offset", "limit": "--limit"},
    )
    emit(found, as_json, lambda data: _print_items(run_id, data))


def _print_items(run_id: str, found: dict[str, Any]) -> None:
    rows = [
        (
            item["task"],
            item["id"],
            item["status"],
            str(item.get("verdict") or ""),
            "" if item.get("extracted") is None else str(item["extracted"]),
            (item.get("error") or " ".join((item.get("response") or "").split()))[:120],
        )
        for item in found["items"]
    ]
    title = (
        f"{run_id}: items {found['offset'] + 1}-{found['offset'] + len(rows)} of {found['total']}"
        if rows
        else f"{run_id}: no items of {found['total']} here"
    )
    console.print(
        table(
            ("task", "id", "status", "verdict", "extracted", "reply or error"),
            rows,
            ids=("id",),
            title=title,
        )
    )


@app.command("results")
def results(
    run_id: str = RunIdArgument,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A finished run's own benchmark_results.json (config, checksums, metrics)."""
    emit(call(SERVICE, url, "GET", f"/benchmarks/{run_id}/results"), as_json)


@app.command("cancel")
def cancel(
    run_id: str = RunIdArgument,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel a run: a queued one stops at once, a running one after the batch in flight."""
    emit(call(SERVICE, url, "DELETE", f"/jobs/{run_id}"), as_json, print_cancelled)


@app.command("tasks")
def list_tasks(url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """The tasks a run can name: dataset, scorer, prompt version."""
    emit(call(SERVICE, url, "GET", "/tasks"), as_json, _print_tasks)


def _print_tasks(found: dict[str, Any]) -> None:
    rows = []
    for name, spec in found.items():
        data = spec["dataset"]
        dataset = str(data.get("name") or data.get("path") or data.get("hub") or data.get("source"))
        dataset += f"/{data['split']}" if data.get("split") else ""
        rows.append(
            (
                name,
                "custom" if spec.get("custom") else "built-in",
                spec["scorer"],
                dataset,
                str(spec.get("prompt_version") or spec.get("version") or ""),
                spec.get("description") or "",
            )
        )
    headers = ("task", "kind", "scorer", "dataset", "version", "description")
    console.print(table(headers, rows, ids=("task",)))


def _task_name(task: dict[str, Any]) -> str:
    return str(task.get("name") or task["definition"]["name"])


@app.command("task")
def show_task(
    name: str = typer.Argument(..., help="a task's name (see: tutorlab bench tasks)"),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """One task: a built-in's spec, or a custom task with its whole definition."""
    emit(call(SERVICE, url, "GET", f"/tasks/{name}"), as_json)


@app.command("register-task")
def register_task(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="a task file, YAML or JSON (see docs/eval.md)"
    ),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Register a custom task from its task file (the same definition again changes nothing;
    a changed one needs a new version)."""
    with client(SERVICE, url) as http:
        task = register_task_file(http, file)
    emit(
        task,
        as_json,
        lambda data: console.print(
            f"task [bold]{_task_name(data)}[/bold] {data['version']} registered "
            f"(sha256 {data.get('sha256', '')[:12]})",
            highlight=False,
        ),
    )


@app.command("suites")
def list_suites(url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """The suites a run can name: their tasks, items per task and seed."""
    emit(call(SERVICE, url, "GET", "/suites"), as_json, _print_suites)


def _print_suites(found: dict[str, Any]) -> None:
    rows = [
        (
            name,
            ", ".join(spec["tasks"]),
            "all" if spec.get("limit") is None else str(spec["limit"]),
            str(spec.get("seed", 0)),
            spec.get("description", ""),
        )
        for name, spec in found.items()
    ]
    console.print(
        table(("suite", "tasks", "items/task", "seed", "description"), rows, ids=("suite",))
    )


@app.command("compare")
def compare(
    baseline: str = typer.Argument(..., help="baseline run id or results file"),
    candidate: str = typer.Argument(..., help="candidate run id or results file"),
    resamples: int | None = typer.Option(
        None,
        min=100,
        max=200_000,
        help="bootstrap resamples for the intervals (default: 10000)",
        show_default=False,
    ),
    alpha: float | None = typer.Option(
        None, help="significance level, Holm-adjusted (default: 0.05)", show_default=False
    ),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Paired comparison: what improved, what regressed, and whether it is real."""
    body: dict[str, Any] = {"baseline": _ref(baseline), "candidate": _ref(candidate)}
    if resamples is not None:
        body["n_resamples"] = resamples
    if alpha is not None:
        body["alpha"] = alpha
    flags = {
        "baseline": "BASELINE",
        "candidate": "CANDIDATE",
        "n_resamples": "--resamples",
        "alpha": "--alpha",
    }
    report = call(SERVICE, url, "POST", "/comparisons", timeout=600, json=body, flags=flags)
    emit(report, as_json, print_comparison)


@app.command("comparisons")
def comparisons(url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """Comparisons made so far, newest first (at most 200)."""
    emit(call(SERVICE, url, "GET", "/comparisons"), as_json, _print_comparisons)


def _print_comparisons(rows: list[dict[str, Any]]) -> None:
    body = [
        (
            r["id"],
            r["baseline"],
            r["candidate"],
            ", ".join((r.get("summary") or {}).get("improvement") or []) or "-",
            ", ".join((r.get("summary") or {}).get("regression") or []) or "-",
            r["created_at"][:19],
        )
        for r in rows
    ]
    console.print(table(("id", "baseline", "candidate", "improved", "regressed", "created"), body))


@app.command("comparison")
def comparison(
    comparison_id: str = typer.Argument(..., help="comparison id (cmp_…)"),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """One comparison's report, as ``bench compare`` printed it."""
    emit(call(SERVICE, url, "GET", f"/comparisons/{comparison_id}"), as_json, print_comparison)


def _ref(value: str) -> str:
    path = Path(value)
    return str(path.resolve()) if path.exists() else value


def print_comparison(report: dict[str, Any]) -> None:
    headers = ("metric", "baseline", "candidate", "delta", "95% CI", "p (Holm)", "verdict")
    rows: list[list[str]] = []
    # "not compared": a metric one run never computed (e.g. a judge metric), never a verdict
    colors = {"improvement": "green", "regression": "red", "not compared": "dim"}
    for name, m in report.get("metrics", {}).items():
        ci = "-" if m.get("ci_low") is None else f"[{m['ci_low']:+.1%}, {m['ci_high']:+.1%}]"
        verdict = m.get("verdict", "")
        color = colors.get(verdict)
        if m.get("scorer_changed"):  # another scorer version on each side (see the notes)
            verdict += f" ({m['scorer_changed'].get('scorer')} changed)"
        rows.append(
            [
                name,
                _fmt(m.get("baseline_mean")),
                _fmt(m.get("candidate_mean")),
                "-" if m.get("delta") is None else f"{m['delta']:+.1%}",
                ci,
                _fmt(m.get("adjusted_p_value"), pct=False),
                f"[{color}]{verdict}[/{color}]" if color else verdict,
            ]
        )
    # a narrow terminal gets one card per metric, never a cut name or verdict
    console.print(table(headers, rows, ids=("metric",), on=console))
    for note in report.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}")
    if report.get("path"):
        console.print(f"comparison: {report['path']}")
