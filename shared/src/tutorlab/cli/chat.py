"""``tutorlab chat``: one tutoring turn through tutor-api."""

from __future__ import annotations

import json

import typer

from tutorlab.cli.http import UrlOption, client, console, fail, request


def chat(
    message: str = typer.Argument(..., help="the student's message"),
    mode: str = typer.Option("hint", help="hint | explain | check | solve"),
    grade: int = typer.Option(6, min=1, max=12),
    model: str | None = typer.Option(None, help="registered model (default: the active one)"),
    stream: bool = typer.Option(False, help="print the reply as it streams"),
    url: str | None = UrlOption,
) -> None:
    """Ask the tutor."""
    body = {"message": message, "mode": mode, "grade": grade, "model": model, "stream": stream}
    with client("tutor-api", url, timeout=300) as http:
        if not stream:
            reply = request(http, "POST", "/chat", json=body).json()
            console.print(reply["reply"])
            console.print(
                f"[dim]{reply['model']} · {reply['mode']} · grade {reply['grade']} · "
                f"{reply['latency_ms']:.0f} ms · {reply['prompt_version']}[/dim]"
            )
            return
        with http.stream("POST", "/chat", json=body) as response:
            if response.status_code >= 400:
                response.read()
                fail(f"POST /chat -> {response.status_code}: {response.text}")
            event = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    if event == "delta":
                        console.print(data["text"], end="")
                    elif event == "error":
                        fail(data["error"])
                    elif event == "done":
                        console.print()
