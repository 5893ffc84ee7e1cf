"""``python -m <service>``: migrate, then serve. Same for every service."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from tutorlab.logging import configure_logging
from tutorlab.migrations import upgrade
from tutorlab.settings import ServiceSettings


def serve(
    settings: ServiceSettings,
    app_factory: Callable[[ServiceSettings], FastAPI],
    migrations: Path,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=settings.service_name)
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    parser.add_argument("--host", default=None, help=f"default {settings.host}")
    parser.add_argument("--port", type=int, default=None, help=f"default {settings.port}")
    parser.add_argument("--no-migrate", action="store_true", help="skip alembic upgrade")
    args = parser.parse_args(argv)
    configure_logging(
        settings.service_name,
        json_lines=settings.log_json,
        level=settings.log_level,
        secrets=[settings.api_key_value() or ""],
    )
    if not args.no_migrate:
        upgrade(migrations, settings.resolved_database_url, version_table(settings.service_name))
    if args.command == "migrate":
        return
    uvicorn.run(
        app_factory(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def version_table(service_name: str) -> str:
    return f"alembic_version_{service_name.replace('-', '_')}"
