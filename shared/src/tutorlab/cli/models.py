"""``tutorlab models …``: the registry in tutor-api."""

from __future__ import annotations

from typing import Any

import typer

from tutorlab.cli.http import call, client, console, request, url_option
from tutorlab.cli.options import JsonOption
from tutorlab.cli.output import emit, table
from tutorlab.cli.params import ExtraParamOption, ParamOption, parse_params

app = typer.Typer(no_args_is_help=True)
SERVICE = "tutor-api"
UrlOption = url_option(SERVICE)
NameArgument = typer.Argument(..., help="the endpoint's registered name")

#: POST/PATCH /models fields -> the flags that set them (named in its errors)
MODEL_FLAGS = {
    "name": "NAME",
    "kind": "--kind",
    "model": "--model",
    "base_url": "--base-url",
    "params": "--param",
    "max_concurrency": "--max-concurrency",
    "api_key_env": "--api-key-env",
}


@app.command("register")
def register(
    name: str = typer.Argument(..., help="name to register it under (letters, digits, ._:-)"),
    kind: str = typer.Option(..., help="ollama | openai | tinker"),
    model: str = typer.Option(..., help="model name at the endpoint (tinker: a tinker:// path)"),
    base_url: str | None = typer.Option(None, help="ollama: http://host:11434; openai: …/v1"),
    param: list[str] = ParamOption,
    extra_param: list[str] = ExtraParamOption,
    max_concurrency: int = typer.Option(8, help="parallel requests the endpoint takes"),
    api_key_env: str | None = typer.Option(None, help="NAME of the env variable with the key"),
    activate: bool = typer.Option(False, "--activate", help="make it the active model"),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Register a model endpoint."""
    body: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "model": model,
        "params": parse_params(param, extra_param),
        "max_concurrency": max_concurrency,
    }
    if base_url:
        body["base_url"] = base_url
    if api_key_env:
        body["api_key_env"] = api_key_env
    with client(SERVICE, url) as http:
        created = request(http, "POST", "/models", json=body, flags=MODEL_FLAGS).json()
        if activate:
            created = request(http, "POST", f"/models/{name}/activate").json()
    emit(
        created,
        as_json,
        lambda data: console.print(
            f"registered [bold]{data['name']}[/bold] ({data['kind']} {data['model']})"
        ),
    )


@app.command("update")
def update(
    name: str = NameArgument,
    model: str | None = typer.Option(None, help="model name at the endpoint"),
    base_url: str | None = typer.Option(None, help="the endpoint's URL"),
    param: list[str] = ParamOption,
    extra_param: list[str] = ExtraParamOption,
    clear_params: bool = typer.Option(
        False, "--clear-params", help="drop every sampling parameter (before any --param)"
    ),
    max_concurrency: int | None = typer.Option(
        None, min=1, max=1024, help="parallel requests the endpoint takes"
    ),
    api_key_env: str | None = typer.Option(None, help="NAME of the env variable with the key"),
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Change a registered endpoint; what is not given stays. --param replaces its sampling
    parameters as a whole."""
    body: dict[str, Any] = {}
    for key, value in (
        ("model", model),
        ("base_url", base_url),
        ("max_concurrency", max_concurrency),
        ("api_key_env", api_key_env),
    ):
        if value is not None:
            body[key] = value
    if clear_params or param or extra_param:
        body["params"] = parse_params(param, extra_param)
    updated = call(SERVICE, url, "PATCH", f"/models/{name}", json=body, flags=MODEL_FLAGS)
    emit(updated, as_json)


@app.command("list")
def list_models(url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """List registered endpoints."""
    emit(call(SERVICE, url, "GET", "/models"), as_json, _print_models)


def _print_models(rows: list[dict[str, Any]]) -> None:
    body = [
        (
            row["name"],
            row["kind"],
            row["model"],
            row["base_url"],
            str(row["max_concurrency"]),
            "*" if row["active"] else "",
        )
        for row in rows
    ]
    headers = ("name", "kind", "model", "base_url", "concurrency", "active")
    console.print(table(headers, body, ids=("name",)))


@app.command("show")
def show(name: str = NameArgument, url: str | None = UrlOption, as_json: bool = JsonOption) -> None:
    """One endpoint as JSON."""
    emit(call(SERVICE, url, "GET", f"/models/{name}"), as_json)


@app.command("probe")
def probe(
    name: str = NameArgument, url: str | None = UrlOption, as_json: bool = JsonOption
) -> None:
    """Check the endpoint answers (model list and a one-token chat); exit 1 if not."""
    result = call(SERVICE, url, "POST", f"/models/{name}/probe", timeout=180)
    emit(result, as_json)
    if not result["ok"]:
        raise typer.Exit(1)


@app.command("activate")
def activate(
    name: str = NameArgument, url: str | None = UrlOption, as_json: bool = JsonOption
) -> None:
    """Make NAME the model /chat uses by default."""
    found = call(SERVICE, url, "POST", f"/models/{name}/activate")
    emit(found, as_json, lambda _: console.print(f"[bold]{name}[/bold] is now the active model"))


@app.command("delete")
def delete(name: str = NameArgument, url: str | None = UrlOption) -> None:
    """Remove an endpoint from the registry."""
    with client(SERVICE, url) as http:
        request(http, "DELETE", f"/models/{name}")
    console.print(f"deleted {name}")
