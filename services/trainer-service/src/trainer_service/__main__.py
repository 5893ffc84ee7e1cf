"""``trainer-service`` (``python -m trainer_service``): migrate, then serve on its port."""

from __future__ import annotations

from pathlib import Path

from tutorlab.service.runner import serve

from trainer_service.app import create_app
from trainer_service.config import TrainerServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    serve(TrainerServiceSettings(), create_app, MIGRATIONS, argv)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
