"""The simulated backend's checkpoints, on disk under a state directory.

On disk rather than in memory because the trainer's worker may be killed and its successor (a new
process, a new backend) must resume from the last ``weights/`` checkpoint, as it would on Tinker.
Layout: ``<state_dir>/<run_id>/<kind>/<name>.npz`` (arrays) and ``<name>.json`` (metadata, written
last: a checkpoint exists once its JSON does). Both are written to a temporary file and renamed,
so a worker killed mid-save leaves no half checkpoint. A checkpoint with a TTL is deleted when it
is found past its expiry (on access, and on every save).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .protocol import BackendError
from .tinker_paths import CheckpointKind, CheckpointPath, check_name, check_ttl


@dataclass
class Checkpoint:
    path: CheckpointPath
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


class CheckpointStore:
    def __init__(self, root: Path, clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self._clock = clock

    def _files(self, path: CheckpointPath) -> tuple[Path, Path]:
        base = self.root / path.run_id / path.kind
        return base / f"{path.name}.npz", base / f"{path.name}.json"

    def save(
        self,
        run_id: str,
        kind: CheckpointKind,
        name: str,
        arrays: dict[str, np.ndarray],
        meta: dict[str, Any],
        ttl_s: int | None,
    ) -> CheckpointPath:
        check_ttl(ttl_s)
        path = CheckpointPath(run_id, kind, check_name(name))
        self.sweep()
        npz, meta_file = self._files(path)
        npz.parent.mkdir(parents=True, exist_ok=True)
        now = self._clock()
        record = {
            **meta,
            "path": str(path),
            "created_at": now,
            "ttl_s": ttl_s,
            "expires_at": None if ttl_s is None else now + ttl_s,
        }
        named: dict[str, Any] = dict(arrays)
        _atomic_write(npz, lambda f: np.savez(f, **named))
        _atomic_write(meta_file, lambda f: f.write(json.dumps(record, indent=1).encode()))
        return path

    def load(self, path: CheckpointPath) -> Checkpoint:
        npz, meta_file = self._files(path)
        if not meta_file.exists():
            raise BackendError(f"checkpoint {path} not found")
        meta = json.loads(meta_file.read_text())
        if self._expired(meta):
            self._delete(path)
            raise BackendError(f"checkpoint {path} expired (ttl {meta['ttl_s']} s) and was deleted")
        with np.load(npz) as data:
            arrays = {key: data[key] for key in data.files}
        return Checkpoint(path, meta, arrays)

    def sweep(self) -> list[CheckpointPath]:
        """Delete every checkpoint past its TTL; returns what went."""
        gone: list[CheckpointPath] = []
        if not self.root.exists():
            return gone
        for meta_file in self.root.glob("*/*/*.json"):
            try:
                meta = json.loads(meta_file.read_text())
            except (OSError, ValueError):
                continue
            if self._expired(meta):
                path = CheckpointPath.parse(meta["path"])
                self._delete(path)
                gone.append(path)
        return gone

    def _expired(self, meta: dict[str, Any]) -> bool:
        expires_at = meta.get("expires_at")
        return expires_at is not None and self._clock() >= expires_at

    def _delete(self, path: CheckpointPath) -> None:
        for file in reversed(self._files(path)):
            file.unlink(missing_ok=True)


def _atomic_write(target: Path, write: Callable[[Any], object]) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
