"""``tutorlab``: one command line over every service."""

from __future__ import annotations

from importlib.metadata import version

import typer

from tutorlab.cli import bench, chat, data, jobs, models, score, train

app = typer.Typer(
    name="tutorlab",
    help="TutorLab: benchmark, prepare data, train and compare math-tutor LLMs. Every command "
    "that reads takes --json (the API's JSON on stdout) and --url (the service it talks to).",
    no_args_is_help=True,
    add_completion=True,
)
app.add_typer(models.app, name="models", help="Register, list, probe and activate model endpoints.")
app.add_typer(jobs.app, name="jobs", help="Show, wait for, list and cancel jobs of any service.")
app.add_typer(
    bench.app,
    name="bench",
    help="Run, follow, list, show, cancel and compare benchmarks; their tasks and suites.",
)
app.add_typer(data.app, name="data", help="Datasets, tagging, training sets and their builders.")
app.add_typer(train.app, name="train", help="Run, watch, list and cancel training runs.")
app.add_typer(
    train.experiments_app, name="experiments", help="Experiment records of training runs."
)
app.command("chat")(chat.chat)
app.command("score")(score.score)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"tutorlab {version('tutorlab')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="print the version and exit",
    ),
) -> None:
    pass
