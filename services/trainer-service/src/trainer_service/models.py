"""trainer-service tables (the jobs table is shared by every service)."""

from __future__ import annotations

from tutorlab.jobs.models import Job

TABLES = (Job.__tablename__,)
