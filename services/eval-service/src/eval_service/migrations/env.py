"""Alembic environment for eval-service: only its own tables."""

from eval_service.models import TABLES
from tutorlab.migrations import run_env

run_env(TABLES)
