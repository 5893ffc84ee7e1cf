"""Reading benchmark result files back, confined to the outputs directory.

A result file named in a request (``baseline``, ``candidate``, ``compare_to``) is a path as the
service reports it in ``results_path`` (absolute, or relative to the service's working
directory), or its folder. It must resolve, symlinks followed, inside the outputs directory; a
path outside it and a path that names nothing get the same answer, so a request learns nothing
about files outside. A file inside that is not a results file (binary, not JSON, not an object
with its tasks) or an ``items.jsonl`` with a bad line is an error naming the field and the line.

Both layouts read the same way: a run's own folder (``<slug>/runs/<run-id>/``) and the label's
folder (``<slug>/``, the newest run's copy; or the only run's files, written by a version that
kept one folder per label). A label folder's copy stands for the run it came from: its items
and its comparison are that run's own folder's when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from eval_service.results import COMPARISON_FILE, ITEMS_FILE, RESULTS_FILE, run_folder


class ResultFileError(Exception):
    """A result file named in a request cannot be used; the message names the field."""


def inside(path: Path, root: Path) -> Path | None:
    """``path`` resolved (symlinks followed), or None when it resolves outside ``root`` or
    cannot be resolved at all (a NUL byte, a name the file system refuses)."""
    try:
        resolved = path.resolve()
        return resolved if resolved.is_relative_to(root.resolve()) else None
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        return None


def not_found(field: str, ref: str) -> ResultFileError:
    """The one answer for a path outside the outputs directory and for one that names nothing
    inside it."""
    return ResultFileError(
        f"{field}: {ref!r} is neither a benchmark run id nor a results file in the outputs "
        "directory"
    )


def confine(ref: str, field: str, outputs_dir: Path) -> Path:
    """The results file ``ref`` names (the file, or a folder holding ``benchmark_results.json``),
    resolved inside ``outputs_dir``; :func:`not_found` otherwise."""
    path = inside(Path(ref), outputs_dir) if ref else None
    try:
        if path is not None and path.is_dir():
            path = inside(path / RESULTS_FILE, outputs_dir)
        if path is None or not path.is_file():
            raise not_found(field, ref)
    except OSError as exc:  # a name the file system cannot hold (a part over 255 bytes)
        raise not_found(field, ref) from exc
    return path


def read_results(path: Path, field: str) -> dict[str, Any]:
    """A ``benchmark_results.json``: a JSON object with its ``tasks``."""
    try:
        results = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ResultFileError(f"{field}: {path} cannot be read ({exc.strerror})") from exc
    except orjson.JSONDecodeError as exc:
        raise ResultFileError(f"{field}: {path} is not a results file (not JSON: {exc})") from exc
    if not isinstance(results, dict):
        raise ResultFileError(f"{field}: {path} is not a results file (not a JSON object)")
    tasks = results.get("tasks")
    if not isinstance(tasks, dict) or not all(isinstance(t, dict) for t in tasks.values()):
        raise ResultFileError(f"{field}: {path} is not a results file (no 'tasks' object)")
    return results


def _item(line: bytes, where: str) -> dict[str, Any]:
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ResultFileError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(item, dict):
        raise ResultFileError(f"{where}: not a JSON object")
    if not isinstance(item.get("task"), str) or not isinstance(item.get("id"), str | int):
        raise ResultFileError(f"{where}: an item needs a string 'task' and an 'id'")
    if not isinstance(item.get("metrics", {}), dict):
        raise ResultFileError(f"{where}: 'metrics' is not an object")
    return item


def read_items(path: Path, field: str) -> list[dict[str, Any]]:
    """An ``items.jsonl``: one item object per line (blank lines skipped)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultFileError(f"{field}: {path} cannot be read ({exc.strerror})") from exc
    return [
        _item(line, f"{field}: {path}:{number}")
        for number, line in enumerate(data.splitlines(), 1)
        if line.strip()
    ]


def job_results(run_id: str, summary: dict[str, Any] | None) -> tuple[dict[str, Any], Path] | None:
    """A benchmark run's own results and their path, from its job's result (``summary``): its
    ``results_path``; or, when a newer run with its label replaced that file (one written by a
    version that kept one folder per label), the copy in the run's own folder. None when
    neither holds this run's results."""
    path = (summary or {}).get("results_path")
    if not isinstance(path, str) or not path:
        return None
    for candidate in (Path(path), run_folder(Path(path).parent, run_id) / RESULTS_FILE):
        try:
            results = read_results(candidate, "results")
        except ResultFileError:
            continue
        if results.get("run_id") == run_id:
            return results, candidate
    return None


@dataclass
class ResultFiles:
    """A run's results read from disk: its results, its items, and the folder its comparison
    goes to (its own run folder when it has one)."""

    results: dict[str, Any]
    items: list[dict[str, Any]]
    folder: Path


def own_folder(results_path: Path, results: dict[str, Any], outputs_dir: Path) -> Path:
    """The folder of the run ``results`` describe: its run folder when ``results_path`` is its
    label folder's copy and that run folder is still there, else the file's own folder."""
    run_id = results.get("run_id")
    if isinstance(run_id, str) and run_id:
        own = inside(run_folder(results_path.parent, run_id) / RESULTS_FILE, outputs_dir)
        if own is not None and own.is_file() and own != results_path:
            return own.parent
    return results_path.parent


def read_result_files(ref: str, field: str, outputs_dir: Path) -> ResultFiles:
    """The results file ``ref`` names (see :func:`confine`), its items and its folder."""
    path = confine(ref, field, outputs_dir)
    results = read_results(path, field)
    folder = own_folder(path, results, outputs_dir)
    items_path = inside(folder / ITEMS_FILE, outputs_dir)
    if items_path is None or not items_path.is_file():
        raise ResultFileError(f"{field}: {folder / ITEMS_FILE} (the per-item results) not found")
    return ResultFiles(results, read_items(items_path, field), folder)


def comparison_target(folder: Path | None, outputs_dir: Path) -> Path | None:
    """Where a comparison of the run in ``folder`` is written: its ``comparison.json``, only
    when the folder is inside the outputs directory (None otherwise)."""
    if folder is None:
        return None
    resolved = inside(folder, outputs_dir)
    return None if resolved is None else resolved / COMPARISON_FILE
