"""Alembic environment for tutor-api: only its own tables."""

from tutor_api.models import TABLES
from tutorlab.migrations import run_env

run_env(TABLES)
