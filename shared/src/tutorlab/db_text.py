"""A text column that holds what a model wrote, NUL characters included (decision 0015).

PostgreSQL's text and varchar refuse a NUL (``\\x00``): one model reply holding one failed the
whole insert of its batch, and with it the run. A model's output cannot be refused like a
request's field, and scoring reads the reply as the model sent it, so the stored copy must
give that reply back. :class:`ModelText` does: on PostgreSQL a value holding a NUL (or starting
with :data:`MARK`) is stored as :data:`MARK` followed by its JSON string (``\\u0000`` for each
NUL), and read back as it was; any other value is stored as it is, so ordinary rows read the
same in ``psql``. SQLite stores a NUL as it is and needs none of it. Equal values are stored
equal, so a join or a filter on such a column still matches.

Declare a column with ``Field(sa_type=ModelText)`` (``ModelText(32)`` for a bounded one); its
DDL is SQLModel's own string type, so no migration changes.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Dialect
from sqlmodel.sql.sqltypes import AutoString

__all__ = ["MARK", "ModelText", "from_stored", "to_stored"]

#: first character of a stored value that is a JSON string (a private-use character)
MARK = "\ue000"


def to_stored(value: str) -> str:
    """``value`` as a PostgreSQL text column can hold it (no NUL); :func:`from_stored` undoes it."""
    if "\x00" in value or value.startswith(MARK):
        return MARK + json.dumps(value, ensure_ascii=False)
    return value


def from_stored(value: str) -> str:
    """The value :func:`to_stored` was given."""
    if value.startswith(MARK):
        decoded: str = json.loads(value[len(MARK) :])
        return decoded
    return value


class ModelText(AutoString):
    """SQLModel's string column, NUL-safe on PostgreSQL (see the module)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name == "postgresql":
            return to_stored(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name == "postgresql":
            return from_stored(value)
        return value
