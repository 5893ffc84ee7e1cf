"""Alembic environment for data-service: only its own tables."""

from data_service.models import TABLES
from tutorlab.migrations import run_env

run_env(TABLES)
