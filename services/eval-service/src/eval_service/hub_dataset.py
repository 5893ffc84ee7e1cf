"""A custom task's dataset from the Hugging Face hub (``dataset: {hub: org/name}``): loaded by
the eval-service itself through ``datasets`` into the ``datasets`` cache under the data
directory (``<data_dir>/hf-cache``, where the data-service's hub imports go), so a task is
checked at registration and its run reads the rows from that cache (decision 0024).

Everything here is blocking (network, Arrow): call it from a thread. Every failure is a
:class:`ValueError` whose message starts with the task-file field it is about
(``dataset.hub``, ``dataset.config``, ``dataset.split``, ``dataset.revision``).

A split brings in at most ``max_rows`` rows and ``max_bytes`` bytes of Arrow data
(``EVAL_SERVICE_HUB_MAX_ROWS``, ``EVAL_SERVICE_HUB_MAX_BYTES``): every row is held in memory as a
Python dict and becomes an item of the run. Checked before the download when the repo's card
says the split's size; when it does not, by the size of the split's files on the hub (Parquet or
Arrow files over ``max_bytes`` plus a file's own overhead, or text files over
:data:`TEXT_OVER_ARROW` times it: neither fits once prepared); and always after it is prepared,
before any row is read.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
from tutorlab.datasets.hub import hub_endpoint, hub_offline

from eval_service.config import HUB_MAX_BYTES, HUB_MAX_ROWS
from eval_service.custom_tasks import CustomRows, HubDataset

#: a resolved revision that is a commit (what the hub's cache keys a download on)
COMMIT = re.compile(r"^[0-9a-f]{40}$")


class HubUnreachable(ValueError):
    """The hub could not be asked (offline mode, no network) and the cache lacks the dataset."""


class HubTooLarge(ValueError):
    """The split is over ``EVAL_SERVICE_HUB_MAX_ROWS`` or ``EVAL_SERVICE_HUB_MAX_BYTES``."""


#: how many times its Arrow size a split's text files (JSON, CSV) may be before the download is
#: refused: repeated keys and quoting make text larger than its columns, rarely by more
TEXT_OVER_ARROW = 4
#: file endings whose data is already columnar: its Arrow form is about as large or larger
#: (Parquet's compression undone), less a file's own overhead (its footer, page headers:
#: :data:`COLUMNAR_FILE_OVERHEAD` at most)
COLUMNAR = (".parquet", ".arrow")
COLUMNAR_FILE_OVERHEAD = 64 * 1024


def cache_dir(data_dir: Path) -> Path:
    """The ``datasets`` cache: ``<data_dir>/hf-cache``, as the data-service's default."""
    return data_dir / "hf-cache"


def rows_sha256(rows: list[dict[str, Any]]) -> str:
    """The checksum of rows as loaded: canonical JSON (sorted keys), one line each."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str) + b"\n")
    return digest.hexdigest()


def _unreachable(repo: str, cache: Path, why: str) -> HubUnreachable:
    return HubUnreachable(
        f"dataset.hub: the Hugging Face hub could not be reached ({why}) and {repo!r} is not "
        f"in the cache at {cache}; connect to the hub (unset HF_HUB_OFFLINE), or name a JSONL "
        "file instead (dataset: {source: jsonl, path: ...})"
    )


def _cached(repo: str, cache: Path) -> bool:
    """Whether ``datasets`` has prepared ``repo`` in ``cache`` (any config, any commit)."""
    from datasets.naming import camelcase_to_snakecase

    *org, name = repo.split("/")
    return (cache / "___".join([*org, camelcase_to_snakecase(name)])).is_dir()


def _ask_hub(dataset: HubDataset, cache: Path, timeout_s: float) -> None:
    """Name the field at once when the hub does not answer and the repo is not cached (else
    ``datasets`` reads the cache), or when the hub has no such repo or revision, or will not
    let it be read."""
    base = hub_endpoint()
    url = f"{base}/api/datasets/{dataset.hub}"
    if dataset.revision is not None:
        url += f"/revision/{dataset.revision}"
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        if _cached(dataset.hub, cache):
            return
        raise _unreachable(dataset.hub, cache, f"no network at {base}") from exc
    if response.status_code in (401, 403):
        raise ValueError(
            f"dataset.hub: {dataset.hub!r} on {base} is private or gated "
            f"({response.status_code}); set HF_TOKEN to a token that may read it"
        )
    if response.status_code == 404:
        if dataset.revision is not None and "revision" in response.text.lower():
            raise ValueError(
                f"dataset.revision: {dataset.hub!r} has no revision {dataset.revision!r}"
            )
        raise ValueError(f"dataset.hub: no dataset {dataset.hub!r} on the hub at {base}")


def _check_size(dataset: HubDataset, splits: Any, max_rows: int, max_bytes: int) -> None:
    """:class:`HubTooLarge` naming ``dataset.split`` when the split's known size is over a
    limit."""
    info = (splits or {}).get(dataset.split)
    rows, size = getattr(info, "num_examples", None), getattr(info, "num_bytes", None)
    where = f"dataset.split: {dataset.hub!r} {dataset.split!r}"
    if rows and rows > max_rows:
        raise HubTooLarge(
            f"{where} has {rows:,} rows, over the limit of {max_rows:,} "
            "(EVAL_SERVICE_HUB_MAX_ROWS); pick a smaller split or config"
        )
    if size and size > max_bytes:
        raise HubTooLarge(
            f"{where} holds {size:,} bytes, over the limit of {max_bytes:,} "
            "(EVAL_SERVICE_HUB_MAX_BYTES); pick a smaller split or config"
        )


def _split_files_size(dataset: HubDataset, builder: Any) -> tuple[int, int, bool] | None:
    """The total size of the split's files on the hub, their number and whether all are
    columnar; None when unknown (the builder lists no files for the split, a file is local,
    the hub does not answer), and the check after preparation holds alone."""
    files = [
        str(url)
        for url in (getattr(builder.config, "data_files", None) or {}).get(dataset.split) or []
    ]
    if not files or not all(url.startswith("hf://") for url in files):
        return None
    from huggingface_hub import HfApi, HfFileSystem
    from huggingface_hub.hf_file_system import HfFileSystemResolvedRepositoryPath

    hub = HfFileSystem(endpoint=hub_endpoint(), skip_instance_cache=True)
    api = HfApi(endpoint=hub_endpoint())
    by_repo: dict[tuple[str, str | None], list[str]] = {}
    try:
        for url in files:
            where = hub.resolve_path(url)
            if not isinstance(where, HfFileSystemResolvedRepositoryPath):
                return None
            by_repo.setdefault((where.repo_id, where.revision), []).append(where.path_in_repo)
        total = sum(
            int(getattr(info, "size", 0) or 0)
            for (repo, revision), paths in by_repo.items()
            for info in api.get_paths_info(repo, paths, revision=revision, repo_type="dataset")
        )
    except Exception:  # the hub's errors share no base class; the download will name them
        return None
    return total, len(files), all(url.endswith(COLUMNAR) for url in files)


def _check_files(dataset: HubDataset, builder: Any, max_bytes: int) -> None:
    """When the card does not say the split's size: :class:`HubTooLarge` naming
    ``dataset.split`` when its files on the hub could not fit ``max_bytes`` once prepared."""
    info = (builder.info.splits or {}).get(dataset.split)
    if getattr(info, "num_bytes", None):
        return  # the card said it, and _check_size read it
    known = _split_files_size(dataset, builder)
    if known is None:
        return
    total, count, columnar = known
    allowed = (
        max_bytes + count * COLUMNAR_FILE_OVERHEAD if columnar else max_bytes * TEXT_OVER_ARROW
    )
    if total > allowed:
        kind = "" if columnar else f" of text (more than {TEXT_OVER_ARROW} times the limit)"
        raise HubTooLarge(
            f"dataset.split: {dataset.hub!r} {dataset.split!r} is {total:,} bytes{kind} of "
            f"files on the hub, over the limit of {max_bytes:,} (EVAL_SERVICE_HUB_MAX_BYTES) "
            "before any is downloaded; pick a smaller split or config"
        )


def load_hub_rows(
    dataset: HubDataset,
    cache: Path,
    timeout_s: float,
    *,
    max_rows: int = HUB_MAX_ROWS,
    max_bytes: int = HUB_MAX_BYTES,
) -> CustomRows:
    """A hub dataset's rows, their checksum and the commit they came from; a split over
    ``max_rows`` rows or ``max_bytes`` bytes is a ValueError naming ``dataset.split``."""
    offline = hub_offline()
    if not offline:
        _ask_hub(dataset, cache, timeout_s)
    import datasets

    datasets.disable_progress_bars()
    try:
        builder = datasets.load_dataset_builder(
            dataset.hub, dataset.config, revision=dataset.revision, cache_dir=str(cache)
        )
        _check_size(dataset, builder.info.splits, max_rows, max_bytes)  # as its card says
        _check_files(dataset, builder, max_bytes)  # or as its files are, when it says nothing
        builder.download_and_prepare()
    except HubTooLarge:
        raise
    except ConnectionError as exc:  # offline mode, no network, or the hub went away mid-way
        why = "HF_HUB_OFFLINE is set" if offline else f"no network at {hub_endpoint()}"
        raise _unreachable(dataset.hub, cache, why) from exc
    except ValueError as exc:
        if dataset.config is not None and "config" in str(exc).lower():
            raise ValueError(f"dataset.config: {exc}") from exc
        raise ValueError(f"dataset.hub: {dataset.hub!r} cannot be loaded: {exc}") from exc
    except Exception as exc:  # datasets' own errors share no base class
        raise ValueError(
            f"dataset.hub: {dataset.hub!r} cannot be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    resolved = builder.hash
    revision = resolved if isinstance(resolved, str) and COMMIT.match(resolved) else None
    pinned = dataset.revision
    if pinned is not None and COMMIT.match(pinned) and revision not in (None, pinned):
        raise ValueError(
            f"dataset.revision: {pinned} is not in the cache at {cache} (it has {revision}) "
            "and the hub could not be asked"
        )
    splits = sorted(builder.info.splits or {})
    if dataset.split not in splits:
        raise ValueError(f"dataset.split: {dataset.hub!r} has no split {dataset.split!r}: {splits}")
    _check_size(dataset, builder.info.splits, max_rows, max_bytes)  # as prepared
    rows: list[dict[str, Any]] = builder.as_dataset(split=dataset.split).to_list()
    if not rows:
        raise ValueError(f"dataset.split: {dataset.hub!r} {dataset.split!r} has no rows")
    return CustomRows(rows, rows_sha256(rows), revision)
