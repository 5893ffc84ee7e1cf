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
DDL is SQLModel's own string type, so no migration changes. A bounded column (a finish reason, a
model's name: short by every API) holds at most its length on every database: a longer value
(what a broken or hostile endpoint may send) is stored cut, ending in :data:`CUT`, instead of
failing the insert on PostgreSQL, which enforces the length (SQLite does not).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Dialect
from sqlmodel.sql.sqltypes import AutoString

__all__ = ["CUT", "MARK", "ModelText", "fit", "from_stored", "to_stored"]

#: first character of a stored value that is a JSON string (a private-use character)
MARK = "\ue000"
#: the last character of a value cut to its column's length
CUT = "…"


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


def fit(value: str, length: int | None, encode: bool) -> str:
    """What a column of ``length`` characters stores for ``value``: :func:`to_stored` of it
    when ``encode`` (PostgreSQL), cut so that the stored form fits, ending in :data:`CUT`."""
    stored = to_stored(value) if encode else value
    if length is None or len(stored) <= length:
        return stored
    keep = min(len(value), length) - 1
    while keep > 0:
        cut = value[:keep] + CUT
        stored = to_stored(cut) if encode else cut
        if len(stored) <= length:
            return stored
        keep -= len(stored) - length
    return CUT


class ModelText(AutoString):
    """SQLModel's string column, NUL-safe on PostgreSQL (see the module)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str):
            return fit(value, self.length, encode=dialect.name == "postgresql")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name == "postgresql":
            return from_stored(value)
        return value
