"""The CLI's surface, read from the Typer app itself: every option and argument explains itself,
flags read naturally, read commands take --json and service commands --url, --version, shell
completion, and a sampling parameter with a typo is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
import typer
from tutorlab.cli.main import app
from tutorlab.cli.params import KNOWN_PARAMS, parse_params
from tutorlab.contracts.endpoints import ModelParams
from typer.testing import CliRunner

runner = CliRunner()

#: commands whose output is no API record: they write a file, or have nothing to print
NO_JSON = {"models delete", "data fetch", "data tag"}
#: commands that run here, offline, on local files
OFFLINE = {"score", "data tag", "data validate"}
#: a port nothing listens on: a command that tried to send would say it cannot reach it
NOWHERE = "http://127.0.0.1:9"


def commands() -> Iterator[tuple[str, Any]]:
    """Every command of the app (Typer's click commands), by its path: ``bench run``."""

    def walk(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        for name, command in group.commands.items():
            path = f"{prefix} {name}".strip()
            if isinstance(command, typer.core.TyperGroup):
                yield from walk(command, path)
            else:
                yield path, command

    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    yield "tutorlab", root
    yield from walk(root, "")


def options(command: Any) -> set[str]:
    return {name for p in command.params for name in (*p.opts, *p.secondary_opts)}


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"{path}: {param.name}"
        for path, command in commands()
        for param in command.params
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []
    assert len(list(commands())) > 40


def test_flags_read_naturally() -> None:
    names = {name for _, command in commands() for name in options(command)}
    assert not [name for name in names if name.startswith("--no-no-")]
    bench_run = dict(commands())["bench run"]
    assert {"--cache", "--no-cache", "--rescore", "--watch", "--json"} <= options(bench_run)
    # a flag that only turns something on has no --no- twin
    assert "--no-rescore" not in options(bench_run) and "--no-watch" not in options(bench_run)


def test_read_commands_take_json_and_service_commands_take_url() -> None:
    leaves = {path: command for path, command in commands() if path != "tutorlab"}
    assert {path for path, c in leaves.items() if "--json" not in options(c)} == NO_JSON
    assert {path for path, c in leaves.items() if "--url" not in options(c)} == OFFLINE
    for path in ("bench tasks", "bench suites", "bench items", "bench cancel", "bench results"):
        assert path in leaves
    assert "bench comparisons" in leaves and "jobs list" in leaves and "jobs cancel" in leaves
    assert {"--tasks", "--task", "--limit", "--seed", "--judge", "--error-threshold"} <= options(
        leaves["bench run"]
    )
    assert {"--request-timeout", "--request-deadline"} <= options(leaves["bench run"])


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"tutorlab {version('tutorlab')}\n"


def test_shell_completion_is_on() -> None:
    script = runner.invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0 and "_TUTORLAB_COMPLETE=complete_bash" in script.stdout
    env = {
        "_TUTORLAB_COMPLETE": "complete_bash",
        "COMP_WORDS": "tutorlab bench ",
        "COMP_CWORD": "2",
    }
    completed = runner.invoke(app, [], prog_name="tutorlab", env=env)
    assert completed.exit_code == 0
    assert {"run", "tasks", "suites", "items", "cancel", "comparisons"} <= set(
        completed.stdout.split()
    )


def test_known_params_are_the_contracts() -> None:
    assert set(KNOWN_PARAMS) == set(ModelParams.model_fields)
    assert parse_params(["temperature=0.2", 'stop=["\\n"]', "think=false"]) == {
        "temperature": 0.2,
        "stop": ["\n"],
        "think": False,
    }
    assert parse_params([], ["repeat_penalty=1.1", "mirostat=mode"]) == {
        "repeat_penalty": 1.1,
        "mirostat": "mode",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["bench", "run", "--model", "m", "--suite", "quick"],
        ["models", "register", "m", "--kind", "ollama", "--model", "qwen3:8b"],
        ["models", "update", "m"],
    ],
)
def test_an_unknown_param_is_refused_naming_the_known_ones(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--param", "tempreature=0.1", "--url", NOWHERE])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "--param: unknown sampling parameter 'tempreature' (did you mean 'temperature'?)" in (
        message
    )
    assert f"known: {', '.join(KNOWN_PARAMS)}" in message
    assert "--extra-param tempreature=VALUE" in message
    assert "cannot reach" not in message  # refused here, before anything was sent


def test_extra_param_may_not_hide_a_known_one() -> None:
    args = ["bench", "run", "--model", "m", "--suite", "quick", "--url", NOWHERE]
    result = runner.invoke(app, [*args, "--extra-param", "temperature=0"])
    assert result.exit_code == 1
    assert "--extra-param: 'temperature' is a known sampling parameter; pass it as --param" in (
        " ".join(result.stderr.split())
    )
    bad = runner.invoke(app, [*args, "--param", "temperature"])
    assert bad.exit_code == 1 and "--param takes KEY=VALUE, got 'temperature'" in bad.stderr
