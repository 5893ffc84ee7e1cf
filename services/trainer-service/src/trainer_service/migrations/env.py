"""Alembic environment for trainer-service: only its own tables."""

from trainer_service.models import TABLES
from tutorlab.migrations import run_env

run_env(TABLES)
