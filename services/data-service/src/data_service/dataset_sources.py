"""Where benchmark datasets come from, and how rows become normalized records.

Both sources go through ``datasets.load_dataset`` and the same normalizers
(:mod:`tutorlab.datasets.records`):

- ``hub``: the canonical Hugging Face repos (:data:`HUB_SOURCES`);
- ``mirror``: a directory laid out like ``../shared/datasets`` (:data:`MIRROR_FILES`), read with the
  ``json`` builder.

Everything here is blocking (file and network I/O, Arrow): call it from a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from tutorlab.datasets.hub import hub_endpoint, hub_offline
from tutorlab.datasets.records import DATASET_SPLITS, DatasetRecord, gsm8k_record, math_record
from tutorlab.scoring.extract import boxed_answers

from data_service.math_ids import order_key, original_id

Source = Literal["hub", "mirror"]
DATASET_NAMES: tuple[str, ...] = tuple(DATASET_SPLITS)

#: (hub repo, config) per dataset; MATH is split into one config per subject
GSM8K_HUB = ("openai/gsm8k", "main")
GSM8K_SOCRATIC_HUB = ("openai/gsm8k", "socratic")
MATH_HUB = "EleutherAI/hendrycks_math"
MATH_HUB_CONFIGS: tuple[str, ...] = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)
MATH500_HUB = "HuggingFaceH4/MATH-500"
HUB_SOURCES: dict[str, str] = {
    "gsm8k": f"{GSM8K_HUB[0]} (configs main, socratic)",
    "math": f"{MATH_HUB} (configs {', '.join(MATH_HUB_CONFIGS)})",
    "math500": MATH500_HUB,
}

#: files under the mirror directory (a ``*_socratic`` file is used when present: the team's
#: mirror has ``test_socratic`` only)
MIRROR_FILES: dict[str, str] = {
    "gsm8k/train": "gsm8k/train.jsonl",
    "gsm8k/test": "gsm8k/test.jsonl",
    "gsm8k/train_socratic": "gsm8k/train_socratic.jsonl",
    "gsm8k/test_socratic": "gsm8k/test_socratic.jsonl",
    "math/train": "math/train.jsonl",
    "math/test": "math/test.jsonl",
    "math500/ids": "math/math500_ids.txt",
}


class SourceError(Exception):
    """A dataset could not be loaded; the message says what and where."""


class HubUnavailable(SourceError):
    """The Hugging Face hub cannot be reached (offline mode, no network, DNS…)."""


@dataclass
class LoadedSplit:
    """The normalized records of one dataset split and where they came from."""

    name: str
    split: str
    source: Source
    records: list[DatasetRecord]
    detail: dict[str, Any] = field(default_factory=dict)


def splits_for(name: str) -> tuple[str, ...]:
    try:
        return DATASET_SPLITS[name]
    except KeyError:
        raise SourceError(
            f"name: unknown dataset {name!r} (known: {list(DATASET_NAMES)})"
        ) from None


# --- the one loading path --------------------------------------------------------------------


def _datasets() -> Any:
    import datasets

    datasets.disable_progress_bars()
    return datasets


def load_rows(
    path: str,
    *,
    cache_dir: Path,
    config: str | None = None,
    split: str = "train",
    data_files: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of one split through ``datasets.load_dataset`` (hub repo, or ``json`` + data_files)."""
    kwargs: dict[str, Any] = {"split": split, "cache_dir": str(cache_dir)}
    if data_files is not None:
        kwargs["data_files"] = {split: data_files}
    dataset = _datasets().load_dataset(path, config, **kwargs)
    rows: list[dict[str, Any]] = dataset.to_list()
    return rows


# --- hub -------------------------------------------------------------------------------------


def check_hub_reachable(repo: str, timeout_s: float, endpoint: str | None = None) -> None:
    """Fail fast, with a clear message, when the hub does not answer within ``timeout_s``."""
    base = (endpoint or hub_endpoint()).rstrip("/")
    try:
        response = httpx.get(f"{base}/api/datasets/{repo}", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise HubUnavailable(
            f"the Hugging Face hub cannot be reached at {base} ({type(exc).__name__}: {exc}); "
            "import from a local mirror instead (source=mirror, TUTORLAB_DATASET_MIRROR)"
        ) from exc
    if response.status_code >= 500:
        raise HubUnavailable(
            f"the Hugging Face hub at {base} answered {response.status_code} for {repo}; "
            "try again later or import from a local mirror (source=mirror)"
        )


def hub_rows(repo: str, config: str | None, split: str, cache_dir: Path) -> list[dict[str, Any]]:
    """Rows of one hub split, with the hub's failures as :class:`HubUnavailable`/`SourceError`."""
    try:
        return load_rows(repo, config=config, split=split, cache_dir=cache_dir)
    except Exception as exc:
        where = f"{repo}" + (f" (config {config!r}, split {split!r})" if config else f" ({split})")
        if hub_offline():
            raise HubUnavailable(
                f"the Hugging Face hub cannot be reached: offline mode is on (HF_HUB_OFFLINE / "
                f"HF_DATASETS_OFFLINE) and {where} is not in the cache at {cache_dir}; unset "
                "offline mode, or import from a local mirror (source=mirror, "
                f"TUTORLAB_DATASET_MIRROR). ({type(exc).__name__}: {exc})"
            ) from exc
        if isinstance(exc, ConnectionError | OSError | httpx.HTTPError):
            raise HubUnavailable(
                f"the Hugging Face hub cannot be reached for {where}: {type(exc).__name__}: "
                f"{exc}; import from a local mirror instead (source=mirror)"
            ) from exc
        raise SourceError(
            f"loading {where} from the hub failed: {type(exc).__name__}: {exc}"
        ) from exc


def load_from_hub(name: str, split: str, cache_dir: Path, timeout_s: float) -> LoadedSplit:
    splits_for(name)
    if not hub_offline():
        check_hub_reachable(
            {"gsm8k": GSM8K_HUB[0], "math": MATH_HUB, "math500": MATH500_HUB}[name], timeout_s
        )

    def rows(repo: str, config: str | None, split_name: str) -> list[dict[str, Any]]:
        return hub_rows(repo, config, split_name, cache_dir)

    if name == "gsm8k":
        main = rows(*GSM8K_HUB, split)
        socratic = rows(*GSM8K_SOCRATIC_HUB, split)
        records = gsm8k_records(split, main, socratic)
        detail = {"repo": GSM8K_HUB[0], "configs": ["main", "socratic"], "split": split}
    elif name == "math":
        math_rows = hub_math_rows(split, lambda config: rows(MATH_HUB, config, split))
        records = [math_record(row) for row in math_rows]
        detail = {"repo": MATH_HUB, "configs": list(MATH_HUB_CONFIGS), "split": split}
    else:
        records = [math_record(row, dataset="math500") for row in rows(MATH500_HUB, None, split)]
        detail = {"repo": MATH500_HUB, "split": split}
    return LoadedSplit(name, split, "hub", records, detail)


def hub_math_rows(
    split: str, config_rows: Callable[[str], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Every subject config's rows of one split in the mirror's shape and order."""
    shaped = [
        hub_math_row(row, split, config, index)
        for config in MATH_HUB_CONFIGS
        for index, row in enumerate(config_rows(config))
    ]
    return sorted(shaped, key=lambda row: order_key(row["unique_id"]))


def hub_math_row(row: dict[str, Any], split: str, config: str, index: int) -> dict[str, Any]:
    """A row of EleutherAI/hendrycks_math in the mirror's shape.

    That repo has no ``unique_id`` and no ``answer``: a test problem the release's id map knows
    (:mod:`data_service.math_ids`) gets its original id, any other ``<split>/<subject>/hub-<n>``
    (n = the row's index in its subject config); the answer is the solution's last ``\\boxed``.
    """
    boxed = boxed_answers(row.get("solution") or "")
    known = original_id(split, config, row["problem"])
    return {
        "unique_id": known or f"{split}/{config}/hub-{index}",
        "problem": row["problem"],
        "solution": row["solution"],
        "answer": boxed[-1] if boxed else None,
        "subject": row.get("type"),
        "level": row.get("level"),
    }


# --- mirror ----------------------------------------------------------------------------------


def mirror_file(mirror: Path, key: str) -> Path:
    path = mirror / MIRROR_FILES[key]
    if not path.is_file():
        raise SourceError(f"mirror file {path} not found (TUTORLAB_DATASET_MIRROR={mirror})")
    return path


def load_from_mirror(name: str, split: str, mirror: Path | None, cache_dir: Path) -> LoadedSplit:
    splits_for(name)
    if mirror is None:
        raise SourceError(
            "no dataset mirror configured: set TUTORLAB_DATASET_MIRROR to a directory with "
            "gsm8k/*.jsonl and math/*.jsonl, or use source=hub"
        )
    if not mirror.is_dir():
        raise SourceError(f"dataset mirror {mirror} is not a directory (TUTORLAB_DATASET_MIRROR)")

    def rows(key: str) -> list[dict[str, Any]]:
        path = mirror_file(mirror, key)
        try:
            return load_rows("json", data_files=str(path), split=split, cache_dir=cache_dir)
        except Exception as exc:
            raise SourceError(
                f"{path}: cannot be read as JSONL: {type(exc).__name__}: {exc}"
            ) from exc

    files: list[str] = []
    if name == "gsm8k":
        main = rows(f"gsm8k/{split}")
        files.append(MIRROR_FILES[f"gsm8k/{split}"])
        socratic: list[dict[str, Any]] | None = None
        if (mirror / MIRROR_FILES[f"gsm8k/{split}_socratic"]).is_file():
            socratic = rows(f"gsm8k/{split}_socratic")
            files.append(MIRROR_FILES[f"gsm8k/{split}_socratic"])
        records = gsm8k_records(split, main, socratic)
    elif name == "math":
        records = [math_record(row) for row in rows(f"math/{split}")]
        files.append(MIRROR_FILES[f"math/{split}"])
    else:
        ids_path = mirror_file(mirror, "math500/ids")
        wanted = [line.strip() for line in ids_path.read_text().splitlines() if line.strip()]
        by_id = {row["unique_id"]: row for row in rows("math/test")}
        missing = [uid for uid in wanted if uid not in by_id]
        if missing:
            raise SourceError(
                f"{ids_path}: {len(missing)} id(s) not in math/test.jsonl, e.g. {missing[:3]}"
            )
        records = [math_record(by_id[uid], dataset="math500") for uid in wanted]
        files += [MIRROR_FILES["math/test"], MIRROR_FILES["math500/ids"]]
    return LoadedSplit(name, split, "mirror", records, {"mirror": str(mirror), "files": files})


# --- shared normalization --------------------------------------------------------------------


def gsm8k_records(
    split: str, main: Sequence[dict[str, Any]], socratic: Sequence[dict[str, Any]] | None
) -> list[DatasetRecord]:
    """GSM8K records; the Socratic file (same questions, same order) adds sub-questions."""
    if socratic is not None and len(socratic) != len(main):
        raise SourceError(
            f"gsm8k {split}: the Socratic file has {len(socratic)} rows, the main one {len(main)}"
        )
    records = []
    for index, row in enumerate(main):
        extra = None
        if socratic is not None:
            other = socratic[index]
            if other["question"].strip() != row["question"].strip():
                raise SourceError(
                    f"gsm8k {split}: line {index + 1} of the Socratic file is a different question"
                )
            extra = other["answer"]
        try:
            records.append(gsm8k_record(index, split, row["question"], row["answer"], extra))
        except (KeyError, ValueError) as exc:
            raise SourceError(f"gsm8k {split}: line {index + 1}: {exc}") from exc
    return records


Loader = Callable[[str, str], LoadedSplit]


def loader(source: Source, *, mirror: Path | None, cache_dir: Path, hub_timeout_s: float) -> Loader:
    """A ``(name, split) -> LoadedSplit`` for the chosen source."""
    if source == "hub":
        return lambda name, split: load_from_hub(name, split, cache_dir, hub_timeout_s)
    return lambda name, split: load_from_mirror(name, split, mirror, cache_dir)
