"""``tutor-api`` / ``python -m tutor_api``: migrate, then serve on TUTOR_API_PORT (8000)."""

from __future__ import annotations

from pathlib import Path

from tutorlab.service.runner import serve

from tutor_api.app import create_app
from tutor_api.config import TutorApiSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    serve(TutorApiSettings(), create_app, MIGRATIONS, argv)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
