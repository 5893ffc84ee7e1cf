"""Structured logging: one JSON object a line (containers) or plain text, with the job id."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str, secrets: list[str]) -> None:
        super().__init__()
        self.service = service
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.job_id = job_id_var.get()
        if self.secrets:
            message = record.getMessage()
            if any(secret in message for secret in self.secrets):
                record.msg, record.args = self._mask(message), None
            if record.exc_info:
                # a traceback is text too: format it here, masked (formatters then use exc_text)
                text = logging.Formatter().formatException(record.exc_info)
                record.exc_info, record.exc_text = None, self._mask(text)
            elif record.exc_text:
                record.exc_text = self._mask(record.exc_text)
            if record.stack_info:
                record.stack_info = self._mask(record.stack_info)
        return True


def configure_logging(
    service: str, *, json_lines: bool = False, level: str = "INFO", secrets: list[str] | None = None
) -> None:
    """Configure the root logger once per process. ``secrets`` are masked if they ever appear."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(job_id)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(service)s %(name)s: %(message)s")
        )
    handler.addFilter(_ContextFilter(service, secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    for own_handlers in ("arq", "uvicorn", "uvicorn.error"):
        logging.getLogger(own_handlers).handlers[:] = []
        logging.getLogger(own_handlers).propagate = True
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "aiosqlite", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
