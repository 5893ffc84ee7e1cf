"""How the CLI talks to the services: base URLs from flags or environment, the API key, errors."""

from __future__ import annotations

import os
from typing import Any, NoReturn

import httpx
import typer
from rich.console import Console

from tutorlab.settings import DEFAULT_PORTS

console = Console()
err_console = Console(stderr=True)

#: service -> (environment variable with its URL, the URL when that is unset)
DEFAULT_URLS = {
    name: (f"{name.replace('-', '_').upper()}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[name]}")
    for name in ("tutor-api", "eval-service", "data-service", "trainer-service")
}


def service_url(service: str, override: str | None = None) -> str:
    env, default = DEFAULT_URLS[service]
    return (override or os.environ.get(env) or default).rstrip("/")


def client(service: str, url: str | None = None, timeout: float = 60.0) -> httpx.Client:
    headers = {}
    key = os.environ.get("TUTORLAB_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=service_url(service, url), headers=headers, timeout=timeout)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def request(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send a request; a transport error or an error status ends the command with its message."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {http.base_url}: {exc}")
    if response.status_code >= 400:
        try:
            message = response.json().get("error") or response.text
        except ValueError:
            message = response.text
        fail(f"{method} {path} -> {response.status_code}: {message}")
    return response


UrlOption = typer.Option(
    None, "--url", help="service base URL (else the *_URL environment variable)"
)
