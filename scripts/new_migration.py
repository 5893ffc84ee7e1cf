import sys
import tempfile
from pathlib import Path

from alembic import command
from tutorlab.migrations import alembic_config
from tutorlab.service.runner import version_table

name, pkg, message = sys.argv[1], sys.argv[2], sys.argv[3]
loc = Path(f"services/{name}/src/{pkg}/migrations")
db = Path(tempfile.mkdtemp()) / "x.db"
cfg = alembic_config(loc, f"sqlite+aiosqlite:///{db}", version_table(name))
command.upgrade(cfg, "head")
command.revision(cfg, message=message, autogenerate=True)
