"""``data-service`` / ``python -m data_service``: migrate, then serve on DATA_SERVICE_PORT."""

from __future__ import annotations

from pathlib import Path

from tutorlab.service.runner import serve

from data_service.app import create_app
from data_service.config import DataServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    serve(DataServiceSettings(), create_app, MIGRATIONS, argv)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
