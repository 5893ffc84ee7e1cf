"""Dataset versions: normalized JSONL files under the data directory, indexed by table rows.

Layout: ``<data_dir>/datasets/<name>/<split>/<sha256[:12]>.jsonl`` (one
:class:`~tutorlab.datasets.records.DatasetRecord` a line) and, beside it, the taggings
``<sha256[:12]>.tags.<tagging id>.jsonl``. The checksum is the sha256 of the file's bytes, so the
same content always lands in the same file and version; changed content is a new version that
becomes ``current``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.datasets.records import DatasetRecord

from data_service.dataset_sources import LoadedSplit
from data_service.models import DatasetTagging, DatasetVersion

SaveStatus = Literal["created", "unchanged", "restored"]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    """One compact JSON object a line (keys in the order given), UTF-8, trailing newline."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def records_jsonl(records: Sequence[DatasetRecord]) -> bytes:
    return to_jsonl(record.model_dump(mode="json") for record in records)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def version_id(name: str, split: str, sha256: str) -> str:
    return f"{name}-{split}-{sha256[:12]}"


@dataclass
class SaveOutcome:
    version: DatasetVersion
    status: SaveStatus


class DatasetStore:
    """Files under ``data_dir`` plus their rows; every method is safe to run twice."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> None:
        self.sessions = sessions
        self.data_dir = data_dir

    def absolute(self, relative: str) -> Path:
        return self.data_dir / relative

    def split_dir(self, name: str, split: str) -> str:
        return f"datasets/{name}/{split}"

    async def save(self, loaded: LoadedSplit, job_id: str | None = None) -> SaveOutcome:
        """Store a loaded split; the same content again is ``unchanged`` (no new version)."""
        data = await asyncio.to_thread(records_jsonl, loaded.records)
        digest = sha256_bytes(data)
        relative = f"{self.split_dir(loaded.name, loaded.split)}/{digest[:12]}.jsonl"
        target = self.absolute(relative)
        if not target.is_file() or await asyncio.to_thread(_file_sha256, target) != digest:
            await asyncio.to_thread(write_atomic, target, data)
        row = DatasetVersion(
            id=version_id(loaded.name, loaded.split, digest),
            name=loaded.name,
            split=loaded.split,
            source=loaded.source,
            source_detail=loaded.detail,
            sha256=digest,
            rows=len(loaded.records),
            path=relative,
            current=True,
            job_id=job_id,
        )
        for _ in range(3):
            try:
                return await self._register(row)
            except IntegrityError:  # a concurrent import of the same content won the insert
                continue
        return await self._register(row)

    async def _register(self, row: DatasetVersion) -> SaveOutcome:
        async with self.sessions() as session:
            existing = (
                await session.exec(
                    select(DatasetVersion).where(
                        DatasetVersion.name == row.name,
                        DatasetVersion.split == row.split,
                        DatasetVersion.sha256 == row.sha256,
                    )
                )
            ).first()
            status: SaveStatus
            if existing is not None and existing.current:
                return SaveOutcome(existing, "unchanged")
            await session.exec(
                update(DatasetVersion)
                .where(
                    col(DatasetVersion.name) == row.name,
                    col(DatasetVersion.split) == row.split,
                    col(DatasetVersion.sha256) != row.sha256,
                )
                .values(current=False)
            )
            if existing is not None:
                existing.current = True
                session.add(existing)
                version, status = existing, "restored"
            else:
                session.add(row)
                version, status = row, "created"
            await session.commit()
            await session.refresh(version)
            return SaveOutcome(version, status)

    async def current(self, name: str, split: str) -> DatasetVersion | None:
        async with self.sessions() as session:
            result = await session.exec(
                select(DatasetVersion).where(
                    DatasetVersion.name == name,
                    DatasetVersion.split == split,
                    col(DatasetVersion.current).is_(True),
                )
            )
            return result.first()

    async def list_current(self) -> list[DatasetVersion]:
        async with self.sessions() as session:
            result = await session.exec(
                select(DatasetVersion)
                .where(col(DatasetVersion.current).is_(True))
                .order_by(col(DatasetVersion.name), col(DatasetVersion.split))
            )
            return list(result.all())

    async def versions(self, name: str, split: str) -> list[DatasetVersion]:
        async with self.sessions() as session:
            result = await session.exec(
                select(DatasetVersion)
                .where(DatasetVersion.name == name, DatasetVersion.split == split)
                .order_by(col(DatasetVersion.created_at).desc())
            )
            return list(result.all())

    async def get_version(self, version: str) -> DatasetVersion | None:
        async with self.sessions() as session:
            return await session.get(DatasetVersion, version)

    async def load_records(self, version: DatasetVersion) -> list[dict[str, Any]]:
        path = self.absolute(version.path)
        if not path.is_file():
            raise FileNotFoundError(
                f"dataset file {path} of version {version.id} is missing from the data directory"
            )
        return await asyncio.to_thread(read_jsonl, path)

    # --- taggings ----------------------------------------------------------------------------

    def tagging_path(self, version: DatasetVersion, tagging_id: str) -> str:
        directory = self.split_dir(version.name, version.split)
        return f"{directory}/{version.sha256[:12]}.tags.{tagging_id}.jsonl"

    async def save_tagging(
        self, tagging: DatasetTagging, rows: Sequence[dict[str, Any]]
    ) -> DatasetTagging:
        """Write the tags file and upsert its row (a re-run job replaces its own tagging)."""
        data = await asyncio.to_thread(to_jsonl, rows)
        await asyncio.to_thread(write_atomic, self.absolute(tagging.path), data)
        tagging.sha256 = sha256_bytes(data)
        tagging.rows = len(rows)
        async with self.sessions() as session:
            merged = await session.merge(tagging)
            await session.commit()
            await session.refresh(merged)
            return merged

    async def taggings(self, version_id: str) -> list[DatasetTagging]:
        async with self.sessions() as session:
            result = await session.exec(
                select(DatasetTagging)
                .where(DatasetTagging.version_id == version_id)
                .order_by(col(DatasetTagging.created_at).desc())
            )
            return list(result.all())

    async def get_tagging(self, tagging_id: str) -> DatasetTagging | None:
        async with self.sessions() as session:
            return await session.get(DatasetTagging, tagging_id)

    async def load_tags(self, tagging: DatasetTagging) -> dict[str, dict[str, Any]]:
        rows = await asyncio.to_thread(read_jsonl, self.absolute(tagging.path))
        return {row["id"]: row for row in rows}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
