"""Public labelled files for validation: read from a folder, or downloaded once and cached."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

__all__ = ["SourceUnavailable", "public_file"]


class SourceUnavailable(Exception):
    """A public file could not be read or downloaded (offline, no such file): the validation that
    needs it is skipped, with this message."""


def _cache_dir() -> Path:
    return Path(os.environ.get("TUTORLAB_DATA_DIR", "var")) / "validation"


def public_file(repo: str, path: str, ref: str, source_dir: Path | None = None) -> Path:
    """The local copy of ``path`` in GitHub repository ``repo`` at ``ref`` (a commit or branch).

    Looked for, in order: ``source_dir/path`` when a folder is given (nothing is downloaded then),
    the cache under ``$TUTORLAB_DATA_DIR/validation/<repo>/<ref>/``, then a download from
    raw.githubusercontent.com into that cache.
    """
    if source_dir is not None:
        local = source_dir / path
        if not local.is_file():
            raise SourceUnavailable(f"{local} not found (from {repo}, {path})")
        return local
    cached = _cache_dir() / repo / ref / path
    if cached.is_file():
        return cached
    url = f"https://raw.githubusercontent.com/{repo}/{ref}/{path}"
    try:
        response = httpx.get(url, timeout=30, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SourceUnavailable(
            f"cannot download {url} ({exc.__class__.__name__}: {exc}); give --source-dir with "
            f"a copy of {repo} instead"
        ) from exc
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(cached.suffix + ".part")
    tmp.write_bytes(response.content)
    tmp.replace(cached)
    return cached
