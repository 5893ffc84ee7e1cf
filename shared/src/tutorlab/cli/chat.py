"""``tutorlab chat``: one tutoring turn through tutor-api."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tutorlab.cli.http import client, console, error_message, fail, request, url_option
from tutorlab.cli.options import JsonOption
from tutorlab.cli.output import emit_json

#: POST /chat fields -> the flags that set them (named in its errors)
CHAT_FLAGS = {
    "message": "MESSAGE",
    "mode": "--mode",
    "grade": "--grade",
    "model": "--model",
    "history": "--history",
}


def _history(path: Path | None) -> list[Any]:
    if path is None:
        return []
    try:
        turns = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"--history: cannot read {path} as JSON: {exc}")
    if not isinstance(turns, list):
        fail(f"--history: {path} must hold a JSON list of {{role, content}} turns")
    return turns


def chat(
    message: str = typer.Argument(..., help="the student's message"),
    mode: str = typer.Option("hint", help="hint | explain | check | solve"),
    grade: int = typer.Option(6, min=1, max=12, help="the student's grade, 1-12"),
    model: str | None = typer.Option(None, help="registered model (default: the active one)"),
    history: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help='earlier turns: a JSON file [{"role": "user"|"assistant", "content": …}, …]',
    ),
    stream: bool = typer.Option(False, "--stream", help="print the reply as it streams"),
    url: str | None = url_option("tutor-api"),
    as_json: bool = JsonOption,
) -> None:
    """Ask the tutor."""
    if stream and as_json:
        fail("--stream and --json: pick one (--json prints the whole reply's record)")
    body = {
        "message": message,
        "mode": mode,
        "grade": grade,
        "model": model,
        "history": _history(history),
        "stream": stream,
    }
    with client("tutor-api", url, timeout=300) as http:
        if not stream:
            reply = request(http, "POST", "/chat", json=body, flags=CHAT_FLAGS).json()
            if as_json:
                emit_json(reply)
                return
            console.print(reply["reply"], markup=False, highlight=False)
            console.print(
                f"[dim]{reply['model']} · {reply['mode']} · grade {reply['grade']} · "
                f"{reply['latency_ms']:.0f} ms · {reply['prompt_version']}[/dim]"
            )
            return
        with http.stream("POST", "/chat", json=body) as response:
            if response.status_code >= 400:
                response.read()
                fail(f"POST /chat -> {response.status_code}: {error_message(response, CHAT_FLAGS)}")
            event = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    if event == "delta":
                        console.print(data["text"], end="", markup=False, highlight=False)
                    elif event == "error":
                        fail(data["error"])
                    elif event == "done":
                        console.print()
