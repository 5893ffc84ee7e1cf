"""``tutorlab models …``: the registry in tutor-api."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from tutorlab.cli.http import UrlOption, client, console, fail, request

app = typer.Typer(no_args_is_help=True)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"--param takes key=value, got {pair!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


@app.command("register")
def register(
    name: str,
    kind: str = typer.Option(..., help="ollama | openai | tinker"),
    model: str = typer.Option(..., help="model name at the endpoint (tinker: a tinker:// path)"),
    base_url: str | None = typer.Option(None, help="ollama: http://host:11434; openai: …/v1"),
    param: list[str] = typer.Option([], help="sampling parameter key=value (repeatable)"),
    max_concurrency: int = typer.Option(8, help="parallel requests the endpoint takes"),
    api_key_env: str | None = typer.Option(None, help="NAME of the env variable with the key"),
    activate: bool = typer.Option(False, help="make it the active model"),
    url: str | None = UrlOption,
) -> None:
    """Register a model endpoint."""
    body: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "model": model,
        "params": parse_params(param),
        "max_concurrency": max_concurrency,
    }
    if base_url:
        body["base_url"] = base_url
    if api_key_env:
        body["api_key_env"] = api_key_env
    with client("tutor-api", url) as http:
        created = request(http, "POST", "/models", json=body).json()
        if activate:
            request(http, "POST", f"/models/{name}/activate")
    console.print(
        f"registered [bold]{created['name']}[/bold] ({created['kind']} {created['model']})"
    )


@app.command("list")
def list_models(url: str | None = UrlOption) -> None:
    """List registered endpoints."""
    with client("tutor-api", url) as http:
        rows = request(http, "GET", "/models").json()
    table = Table("name", "kind", "model", "base_url", "concurrency", "active")
    for row in rows:
        table.add_row(
            row["name"],
            row["kind"],
            row["model"],
            row["base_url"],
            str(row["max_concurrency"]),
            "*" if row["active"] else "",
        )
    console.print(table)


@app.command("show")
def show(name: str, url: str | None = UrlOption) -> None:
    """Show one endpoint as JSON."""
    with client("tutor-api", url) as http:
        console.print_json(data=request(http, "GET", f"/models/{name}").json())


@app.command("probe")
def probe(name: str, url: str | None = UrlOption) -> None:
    """Check the endpoint answers (model list and a one-token chat)."""
    with client("tutor-api", url, timeout=180) as http:
        result = request(http, "POST", f"/models/{name}/probe").json()
    console.print_json(data=result)
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("activate")
def activate(name: str, url: str | None = UrlOption) -> None:
    """Make NAME the model /chat uses by default."""
    with client("tutor-api", url) as http:
        request(http, "POST", f"/models/{name}/activate")
    console.print(f"[bold]{name}[/bold] is now the active model")


@app.command("delete")
def delete(name: str, url: str | None = UrlOption) -> None:
    """Remove an endpoint from the registry."""
    with client("tutor-api", url) as http:
        request(http, "DELETE", f"/models/{name}")
    console.print(f"deleted {name}")
