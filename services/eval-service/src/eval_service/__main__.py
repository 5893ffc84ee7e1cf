"""``eval-service`` / ``python -m eval_service``: migrate, then serve on EVAL_SERVICE_PORT."""

from __future__ import annotations

from pathlib import Path

from tutorlab.service.runner import serve

from eval_service.app import create_app
from eval_service.config import EvalServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    serve(EvalServiceSettings(), create_app, MIGRATIONS, argv)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
