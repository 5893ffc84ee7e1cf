"""How the CLI talks to the services: base URLs from ``--url`` or the environment, the API key,
errors (a 422's fields named as the command's flags)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, NoReturn

import httpx
import typer
from rich.console import Console

from tutorlab.settings import DEFAULT_PORTS

console = Console()
err_console = Console(stderr=True)

SERVICES = ("tutor-api", "eval-service", "data-service", "trainer-service")


def _env_prefix(service: str) -> str:
    return service.replace("-", "_").upper()


#: service -> (environment variable with its URL, the URL when that is unset)
DEFAULT_URLS = {
    name: (f"{_env_prefix(name)}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[name]}")
    for name in SERVICES
}


def service_url(service: str, override: str | None = None) -> str:
    """``--url``, else ``<SERVICE>_URL``, else 127.0.0.1 on ``<SERVICE>_PORT`` (where the
    service listens; its default port when unset)."""
    env, _ = DEFAULT_URLS[service]
    port = os.environ.get(f"{_env_prefix(service)}_PORT") or DEFAULT_PORTS[service]
    return (override or os.environ.get(env) or f"http://127.0.0.1:{port}").rstrip("/")


def client(service: str, url: str | None = None, timeout: float = 60.0) -> httpx.Client:
    headers = {}
    key = os.environ.get("TUTORLAB_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=service_url(service, url), headers=headers, timeout=timeout)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


#: pydantic's prefix on a model check's message, which names its field again
_VALUE_ERROR = re.compile(r"^Value error, (?:[A-Za-z_][A-Za-z0-9_.]*: )?")


def _flag_for(field: str, flags: Mapping[str, str]) -> str | None:
    """The flag that sets an API field: ``params.temperature`` -> ``--param temperature``."""
    head, _, rest = field.partition(".")
    flag = flags.get(field) or flags.get(head)
    if flag is None:
        return None
    return f"{flag} {rest}" if rest and field not in flags else flag


#: a service's own 4xx names its field first: ``"model: 'x' is not registered"``
_LEADING_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*): (.*)$", re.DOTALL)


def error_message(response: httpx.Response, flags: Mapping[str, str] | None = None) -> str:
    """The API's message, each field it names given as the flag that sets it (``flags``: API
    field -> flag), so the message says what to change on the command line."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    if not isinstance(body, dict):
        return response.text
    message = str(body.get("error") or response.text)
    if not flags:
        return message
    detail = body.get("detail")
    entries = (
        [e for e in detail if isinstance(e, dict)]
        if response.status_code == 422 and isinstance(detail, list)
        else []
    )
    if not entries:  # another 4xx: a message naming its field first
        named = _LEADING_FIELD.match(message)
        flag = _flag_for(named.group(1), flags) if named else None
        return f"{flag}: {named.group(2)}" if named and flag else message
    parts, any_flag = [], False
    for entry in entries:
        field, msg = str(entry.get("field") or "body"), str(entry.get("msg", ""))
        flag = _flag_for(field, flags)
        any_flag = any_flag or flag is not None
        parts.append(f"{flag}: {_VALUE_ERROR.sub('', msg)}" if flag else f"{field}: {msg}")
    return "; ".join(parts) if any_flag else message


def request(
    http: httpx.Client,
    method: str,
    path: str,
    *,
    flags: Mapping[str, str] | None = None,
    about: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request; a transport error or an error status ends the command with its message
    (``flags``: API field -> the command's flag, to name in a 422's message; ``about``: what
    the request was for, e.g. the file it sent, to name in that message)."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {http.base_url}: {exc}")
    if response.status_code >= 400:
        what = f"{method} {path}" + (f" ({about})" if about else "")
        fail(f"{what} -> {response.status_code}: {error_message(response, flags)}")
    return response


def call(
    service: str,
    url: str | None,
    method: str,
    path: str,
    *,
    timeout: float = 60.0,
    **kwargs: Any,
) -> Any:
    """One request to ``service``; its JSON body (see :func:`request`)."""
    with client(service, url, timeout=timeout) as http:
        return request(http, method, path, **kwargs).json()


def url_option(service: str) -> Any:
    """``--url``: the base URL of the service a command talks to."""
    env, _ = DEFAULT_URLS[service]
    port = f"${{{_env_prefix(service)}_PORT:-{DEFAULT_PORTS[service]}}}"
    return typer.Option(
        None,
        "--url",
        help=f"{service} base URL (default: ${env}, else http://127.0.0.1:{port})",
        show_default=False,
    )


def url_flag(url: str | None) -> str:
    """`` --url URL`` when one was given, for hints that name a command to run next."""
    return f" --url {url}" if url else ""
