"""``tutorlab``: one command line over every service."""

from __future__ import annotations

import typer

from tutorlab.cli import bench, chat, data, jobs, models, score, train

app = typer.Typer(
    name="tutorlab",
    help="TutorLab: benchmark, prepare data, train and compare math-tutor LLMs.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models.app, name="models", help="Register, list, probe and activate model endpoints.")
app.add_typer(jobs.app, name="jobs", help="Show and wait for jobs of any service.")
app.add_typer(bench.app, name="bench", help="Run, list, show and compare benchmarks.")
app.add_typer(data.app, name="data", help="Datasets, tagging, training sets and their builders.")
app.add_typer(train.app, name="train", help="Run, watch, list and cancel training runs.")
app.add_typer(
    train.experiments_app, name="experiments", help="Experiment records of training runs."
)
app.command("chat")(chat.chat)
app.command("score")(score.score)
