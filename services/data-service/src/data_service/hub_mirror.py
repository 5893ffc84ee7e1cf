"""A dataset mirror made from the Hugging Face hub, for a machine without the team's copy.

``python -m data_service.hub_mirror`` writes GSM8K and MATH, downloaded through the
data-service's hub path (:mod:`data_service.dataset_sources`: the canonical repos, the
``datasets`` cache under the data directory), as a directory laid out like ``../shared/datasets``:
``gsm8k/{train,test}.jsonl`` and their ``*_socratic.jsonl``, ``math/{train,test}.jsonl``,
``math/math500_ids.txt``, and ``SOURCE.json`` saying where each file came from. Every process
then reads that directory as ``TUTORLAB_DATASET_MIRROR``: the simulator, the eval-service's
mirror path, the data-service's ``source=mirror`` import. ``make demo``, the compose
``datasets`` one-shot and the Kubernetes ``datasets`` Job run it; ``--wait`` only waits for
the mirror (the simulator's Kubernetes init container: it reads its questions once, at start).

The directory is written beside its target and renamed into place when complete, so a cut
download never looks like a mirror; a complete one is kept. ``--from DIR`` copies an existing
mirror instead (compose's ``TUTORLAB_DATASET_MIRROR_HOST``). When neither a mirror nor the hub
is there it exits with :data:`EXIT_NO_SOURCE` and :func:`no_source_sentence` on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutorlab.datasets.hub import hub_endpoint, hub_offline

from data_service.config import DataServiceSettings
from data_service.dataset_sources import (
    GSM8K_HUB,
    GSM8K_SOCRATIC_HUB,
    MATH500_HUB,
    MATH_HUB,
    MIRROR_FILES,
    HubUnavailable,
    check_hub_reachable,
    hub_math_rows,
    hub_rows,
)

#: the files that make a directory a usable mirror (the rest are optional extras)
REQUIRED: tuple[str, ...] = (
    MIRROR_FILES["gsm8k/train"],
    MIRROR_FILES["gsm8k/test"],
    MIRROR_FILES["math/train"],
    MIRROR_FILES["math/test"],
)
#: the exit status when there is no mirror and the hub cannot be reached
EXIT_NO_SOURCE = 3

Rows = list[dict[str, Any]]


def no_source_sentence(why: str) -> str:
    """The one sentence that says both ways on (``make demo`` prints it as it is)."""
    return (
        f"No dataset mirror and no Hugging Face hub ({why}): set TUTORLAB_DATASET_MIRROR to a "
        "folder with gsm8k/ and math/ JSONL files, or connect to the Hugging Face hub (unset "
        "HF_HUB_OFFLINE) so the GSM8K and MATH files are downloaded."
    )


def is_complete(mirror: Path) -> bool:
    return all((mirror / rel).is_file() for rel in REQUIRED)


def _write_jsonl(path: Path, rows: Rows) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    path.write_bytes(data)
    return {"rows": len(rows), "sha256": hashlib.sha256(data).hexdigest()}


def _math_config_rows(
    fetch: Callable[[str, str | None, str], Rows], split: str, config: str
) -> Rows:
    return fetch(MATH_HUB, config, split)


def _hub_files(fetch: Callable[[str, str | None, str], Rows]) -> dict[str, Rows | list[str]]:
    """Every mirror file's rows, by path under the mirror (MATH-500: its ids)."""
    files: dict[str, Rows | list[str]] = {}
    for split in ("train", "test"):
        main = fetch(*GSM8K_HUB, split)
        socratic = fetch(*GSM8K_SOCRATIC_HUB, split)
        files[MIRROR_FILES[f"gsm8k/{split}"]] = [
            {"question": r["question"], "answer": r["answer"]} for r in main
        ]
        files[MIRROR_FILES[f"gsm8k/{split}_socratic"]] = [
            {"question": r["question"], "answer": r["answer"]} for r in socratic
        ]
        files[MIRROR_FILES[f"math/{split}"]] = hub_math_rows(
            split, functools.partial(_math_config_rows, fetch, split)
        )
    # MATH-500 names its problems by the release's ids: those the MATH rows carry are kept
    test_ids = {row["unique_id"] for row in files[MIRROR_FILES["math/test"]]}  # type: ignore[index]
    files[MIRROR_FILES["math500/ids"]] = [
        r["unique_id"] for r in fetch(MATH500_HUB, None, "test") if r["unique_id"] in test_ids
    ]
    return files


def download(into: Path, cache_dir: Path, timeout_s: float) -> Path:
    """Write the mirror at ``into`` from the hub (kept as it is when already complete)."""
    if is_complete(into):
        return into
    if not hub_offline():
        check_hub_reachable(GSM8K_HUB[0], timeout_s)
    elif not cache_dir.is_dir() or not any(cache_dir.iterdir()):
        # offline, only the cache could hold the files: an empty one cannot (and ``datasets``
        # takes seconds to import just to say so)
        raise HubUnavailable(f"offline mode is on and the cache {cache_dir} is empty")

    def fetch(repo: str, config: str | None, split: str) -> Rows:
        return hub_rows(repo, config, split, cache_dir)

    files = _hub_files(fetch)
    repos = {
        "gsm8k": f"{GSM8K_HUB[0]} (configs main, socratic)",
        "math": f"{MATH_HUB} (one config per subject; test ids from the release's id map)",
        "math500_ids": MATH500_HUB,
    }
    return _publish(into, files, {"source": "hub", "endpoint": hub_endpoint(), "repos": repos})


def copy_mirror(source: Path, into: Path) -> Path:
    """Copy an existing mirror's files to ``into`` (replacing what was there)."""
    missing = [rel for rel in REQUIRED if not (source / rel).is_file()]
    if missing:
        raise FileNotFoundError(f"{source} is not a dataset mirror: no {', '.join(missing)}")
    files: dict[str, bytes] = {
        rel: (source / rel).read_bytes()
        for rel in MIRROR_FILES.values()
        if (source / rel).is_file()
    }
    return _publish(into, files, {"source": "mirror", "copied_from": str(source)})


def _publish(into: Path, files: dict[str, Any], provenance: dict[str, Any]) -> Path:
    into.parent.mkdir(parents=True, exist_ok=True)
    staging = into.parent / f".{into.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    written: dict[str, Any] = {}
    for rel, content in files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
            written[rel] = {"sha256": hashlib.sha256(content).hexdigest()}
        elif rel.endswith(".txt"):
            text = "".join(f"{line}\n" for line in content).encode()
            path.write_bytes(text)
            written[rel] = {"lines": len(content), "sha256": hashlib.sha256(text).hexdigest()}
        else:
            written[rel] = _write_jsonl(path, content)
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    (staging / "SOURCE.json").write_text(
        json.dumps({**provenance, "created": created, "files": written}, indent=2) + "\n"
    )
    # a mounted volume's root cannot be renamed over: its contents are replaced instead
    if into.is_dir():
        for child in into.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        for child in staging.iterdir():
            child.rename(into / child.name)
        staging.rmdir()
    else:
        staging.rename(into)
    return into


def wait_for(into: Path, timeout_s: float, poll_s: float = 2.0) -> int:
    """0 once ``into`` is a complete mirror, else :data:`EXIT_NO_SOURCE` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not is_complete(into):
        if time.monotonic() >= deadline:
            print(
                f"No dataset mirror at {into} after {timeout_s:.0f} s: it is written by "
                "`python -m data_service.hub_mirror` (Kubernetes: the `datasets` Job, see its "
                "log) or copied there from a folder with gsm8k/ and math/ JSONL files.",
                file=sys.stderr,
            )
            return EXIT_NO_SOURCE
        time.sleep(poll_s)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_service.hub_mirror",
        description="write a GSM8K + MATH dataset mirror from the Hugging Face hub (or a copy)",
    )
    parser.add_argument(
        "--into", type=Path, help="the mirror directory (default: <data dir>/datasets)"
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="copy this mirror when it has the files, instead of downloading",
    )
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="write nothing: wait up to SECONDS until another process has written the mirror",
    )
    args = parser.parse_args(argv)
    settings = DataServiceSettings()
    into: Path = args.into or settings.data_dir / "datasets"
    if args.wait is not None:
        return wait_for(into, args.wait)
    try:
        if args.source is not None and is_complete(args.source):
            copy_mirror(args.source, into)
        else:
            download(into, settings.resolved_hf_cache_dir, settings.hub_timeout_s)
    except HubUnavailable:
        why = "HF_HUB_OFFLINE is set" if hub_offline() else f"{hub_endpoint()} does not answer"
        print(no_source_sentence(why), file=sys.stderr)
        return EXIT_NO_SOURCE
    print(into.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
