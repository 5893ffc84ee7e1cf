"""``tutorlab jobs show|wait|list|cancel|kinds``: any service's jobs, with a live progress bar."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tutorlab.cli.http import SERVICES, call, client, console, fail, request, url_flag
from tutorlab.cli.options import JsonOption, OffsetOption, StatusOption, limit_option, page
from tutorlab.cli.output import emit, human, table, watching

app = typer.Typer(no_args_is_help=True)

PREFIXES = {
    "tut": "tutor-api",
    "bench": "eval-service",
    "dat": "data-service",
    "train": "trainer-service",
}
TERMINAL = {"succeeded", "failed", "cancelled"}
ServiceOption = typer.Option(
    None,
    "--service",
    help=f"service owning the job: {' | '.join(SERVICES)} (default: from the id's prefix)",
    show_default=False,
)
JobUrlOption = typer.Option(
    None,
    "--url",
    help="base URL of the job's service (default: its *_URL variable, e.g. $EVAL_SERVICE_URL)",
    show_default=False,
)
JobIdArgument = typer.Argument(..., help="job id (bench_…, dat_…, train_…, tut_…)")


def _service_for(job_id: str | None, service: str | None) -> str:
    if service:
        if service not in SERVICES:
            fail(f"--service must be one of {', '.join(SERVICES)}")
        return service
    prefix = (job_id or "").split("_", 1)[0]
    if prefix not in PREFIXES:
        fail(f"cannot tell the service from job id {job_id!r}: pass --service")
    return PREFIXES[prefix]


def wait_for(
    job_id: str,
    service: str,
    url: str | None = None,
    interval: float = 1.0,
    quiet: bool = False,
    bar_console: Console | None = None,
) -> dict[str, Any]:
    """Follow a job until it ends, drawing a progress bar; return the final record. Each poll
    is a long poll of ``interval`` seconds, so the end is seen the moment it comes. Ctrl-C
    stops the following and says how to cancel the job."""
    hint = f"{job_id}{url_flag(url)}"
    with (
        watching(
            f"job {job_id}",
            cancel=f"tutorlab jobs cancel {hint}",
            follow=f"tutorlab jobs wait {hint}",
        ),
        client(service, url, timeout=interval + 60) as http,
        Progress(
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=bar_console or console,
            disable=quiet,
        ) as progress,
    ):
        task = progress.add_task(job_id, total=None, status="queued")
        while True:
            job: dict[str, Any] = request(
                http, "GET", f"/jobs/{job_id}", params={"wait_s": interval}
            ).json()
            progress.update(
                task,
                completed=job["progress"]["done"],
                total=job["progress"]["total"],
                status=job["status"],
            )
            if job["status"] in TERMINAL:
                return job


@app.command("show")
def show(
    job_id: str = JobIdArgument,
    service: str | None = ServiceOption,
    url: str | None = JobUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A job's record (status, progress, params, result, error) as JSON."""
    emit(call(_service_for(job_id, service), url, "GET", f"/jobs/{job_id}"), as_json)


@app.command("wait")
def wait(
    job_id: str = JobIdArgument,
    service: str | None = ServiceOption,
    url: str | None = JobUrlOption,
    interval: float = typer.Option(1.0, min=0.1, max=60, help="seconds between bar updates"),
    as_json: bool = JsonOption,
) -> None:
    """Wait for a job to finish, with a live progress bar; exit 1 unless it succeeded."""
    job = wait_for(job_id, _service_for(job_id, service), url, interval, bar_console=human(as_json))
    emit(job, as_json, _print_end)
    if job["status"] != "succeeded":
        raise typer.Exit(1)


def _print_end(job: dict[str, Any]) -> None:
    console.print(f"{job['id']}: [bold]{job['status']}[/bold]")
    if job.get("error"):
        console.print(job["error"], style="red", markup=False)


def _print_jobs(jobs: list[dict[str, Any]]) -> None:
    rows = [
        (
            j["id"],
            j["kind"],
            j["status"],
            f"{j['progress']['done']}/{j['progress']['total'] or '?'}",
            j["created_at"][:19],
            j.get("error") or "",
        )
        for j in jobs
    ]
    console.print(table(("id", "kind", "status", "progress", "created", "error"), rows))


@app.command("list")
def list_jobs(
    service: str = typer.Option(..., "--service", help=f"whose jobs: {' | '.join(SERVICES)}"),
    kind: str | None = typer.Option(None, help="only this kind (see: tutorlab jobs kinds)"),
    status: str | None = StatusOption,
    limit: int = limit_option(50, 500),
    offset: int = OffsetOption,
    url: str | None = JobUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """A service's jobs, newest first."""
    jobs = call(
        _service_for(None, service),
        url,
        "GET",
        "/jobs",
        params=page(limit, offset, kind=kind, status=status),
        flags={"status": "--status", "kind": "--kind"},
    )
    emit(jobs, as_json, _print_jobs)


@app.command("cancel")
def cancel(
    job_id: str = JobIdArgument,
    service: str | None = ServiceOption,
    url: str | None = JobUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel a job: a queued one stops at once, a running one at its next checkpoint."""
    job = call(_service_for(job_id, service), url, "DELETE", f"/jobs/{job_id}")
    emit(job, as_json, print_cancelled)


def print_cancelled(job: dict[str, Any]) -> None:
    console.print(f"{job['id']}: {job['status']} (cancel requested)")


@app.command("kinds")
def kinds(
    service: str = typer.Option(..., "--service", help=f"whose kinds: {' | '.join(SERVICES)}"),
    url: str | None = JobUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The job kinds a service runs, and the route each is submitted by."""
    emit(call(_service_for(None, service), url, "GET", "/jobs/kinds"), as_json, _print_kinds)


def _print_kinds(rows: list[dict[str, Any]]) -> None:
    body = [(r["kind"], r["submit"], r["description"]) for r in rows]
    console.print(table(("kind", "submit", "description"), body, ids=("kind",)))
