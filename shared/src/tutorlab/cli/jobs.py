"""``tutorlab jobs show|wait``: any service's jobs, with a live progress bar."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tutorlab.cli.http import DEFAULT_URLS, client, console, fail, request

app = typer.Typer(no_args_is_help=True)

PREFIXES = {
    "tut": "tutor-api",
    "bench": "eval-service",
    "dat": "data-service",
    "train": "trainer-service",
}
TERMINAL = {"succeeded", "failed", "cancelled"}
ServiceOption = typer.Option(
    None, "--service", help="service owning the job (default: from the id)"
)


def _service_for(job_id: str, service: str | None) -> str:
    if service:
        if service not in DEFAULT_URLS:
            fail(f"--service must be one of {sorted(DEFAULT_URLS)}")
        return service
    prefix = job_id.split("_", 1)[0]
    if prefix not in PREFIXES:
        fail(f"cannot tell the service from job id {job_id!r}: pass --service")
    return PREFIXES[prefix]


def _path(job_id: str, service: str) -> str:
    return (
        f"/benchmarks/{job_id}"
        if service == "eval-service" and job_id.startswith("bench_")
        else f"/jobs/{job_id}"
    )


@app.command("show")
def show(job_id: str, service: str | None = ServiceOption) -> None:
    """Print a job's record."""
    svc = _service_for(job_id, service)
    with client(svc) as http:
        console.print_json(data=request(http, "GET", f"/jobs/{job_id}").json())


def wait_for(
    job_id: str, service: str, interval: float = 0.5, quiet: bool = False
) -> dict[str, Any]:
    """Poll until the job ends, drawing a progress bar; return the final record."""
    with (
        client(service) as http,
        Progress(
            TextColumn("[bold]{task.fields[status]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=quiet,
        ) as progress,
    ):
        task = progress.add_task(job_id, total=None, status="queued")
        while True:
            job: dict[str, Any] = request(http, "GET", f"/jobs/{job_id}").json()
            total = job["progress"]["total"]
            progress.update(
                task, completed=job["progress"]["done"], total=total, status=job["status"]
            )
            if job["status"] in TERMINAL:
                return job
            time.sleep(interval)


@app.command("wait")
def wait(
    job_id: str,
    service: str | None = ServiceOption,
    interval: float = typer.Option(0.5, help="seconds between polls"),
) -> None:
    """Wait for a job to finish, with a live progress bar; exit 1 unless it succeeded."""
    job = wait_for(job_id, _service_for(job_id, service), interval)
    console.print(f"{job_id}: [bold]{job['status']}[/bold]")
    if job.get("error"):
        console.print(f"[red]{job['error']}[/red]")
    if job["status"] != "succeeded":
        raise typer.Exit(1)
