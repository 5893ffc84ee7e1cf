"""Where a config's ``data.train_file`` / ``data.eval_file`` point, checked at submit and read
by the worker.

A reference is either a data-service training-set id (``ts_…``: its train part for
``train_file``, its eval part for ``eval_file``; ``ts_…:train`` / ``ts_…:eval`` choose), or a
path. A relative path is taken inside the data directory; any path must resolve (symlinks
followed) inside the data directory or the dataset mirror. Nothing else is readable through the
trainer, and a refused path is refused without saying whether it exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from tutorlab.settings import ServiceSettings

from trainer_service.config_sections import DataRef as ConfigDataRef
from trainer_service.training_config import TrainingConfig

Part = Literal["train", "eval"]


class DataRefError(Exception):
    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status_code = status_code


@dataclass(frozen=True)
class DataRef:
    field: str
    raw: str
    set_id: str | None
    part: Part
    path: Path | None


@dataclass(frozen=True)
class LoadedData:
    lines: list[str]
    sha256: str
    source: str


def resolve_ref(field: str, ref: ConfigDataRef, settings: ServiceSettings) -> DataRef:
    """A config's data reference, with a path checked against the readable directories."""
    if ref.kind == "training_set":
        return DataRef(field, ref.value, ref.value.strip(), ref.part, None)
    try:
        candidate = Path(ref.value)
        if not candidate.is_absolute():
            candidate = settings.data_dir / candidate
        resolved = candidate.resolve()
    except (OSError, ValueError) as exc:
        raise DataRefError(field, f"not a usable path ({type(exc).__name__})") from exc
    roots = [settings.data_dir.resolve()]
    if settings.dataset_mirror is not None:
        roots.append(settings.dataset_mirror.resolve())
    if not any(resolved.is_relative_to(root) for root in roots):
        raise DataRefError(
            field,
            "a path must lie inside the trainer's data directory (TUTORLAB_DATA_DIR) or the "
            "dataset mirror; for a file of your own, upload it to the data-service "
            "(POST /training-sets, or `tutorlab data upload`) and give its id",
        )
    return DataRef(field, ref.value, None, ref.part, resolved)


def config_refs(config: TrainingConfig, settings: ServiceSettings) -> list[DataRef]:
    """Every file the config makes the trainer read: the train and eval data (the eval part of
    a training set by default), an RLVR problems file, a tokenizer given as a local path."""
    refs = []
    train, evaluation = config.data.train_ref(), config.data.eval_ref()
    if train is not None:
        refs.append(resolve_ref("data.train_file", train, settings))
    if evaluation is not None:
        refs.append(resolve_ref("data.eval_file", evaluation, settings))
    if config.rlvr is not None and config.rlvr.problems.file:
        problems = ConfigDataRef("path", config.rlvr.problems.file, "train")
        refs.append(resolve_ref("rlvr.problems.file", problems, settings))
    return refs


def tokenizer_source(config: TrainingConfig, settings: ServiceSettings) -> str:
    """Where the chat template's tokenizer comes from: ``model.tokenizer`` (a Hugging Face id,
    or a directory inside the data directory), else the operator's ``tokenizer_dir``, else the
    base model's Hugging Face id."""
    name = config.model.tokenizer
    if name is None:
        tokenizer_dir = getattr(settings, "tokenizer_dir", None)
        return str(tokenizer_dir) if tokenizer_dir else config.resolved_base_model
    # "org/name" is a Hugging Face id unless such a directory exists where the worker runs
    # (transformers would read it): then, like any path, it must be inside the data directory
    looks_like_path = name.startswith(("/", ".", "~")) or name.count("/") != 1
    if not looks_like_path and not Path(name).exists():
        return name
    ref = resolve_ref("model.tokenizer", ConfigDataRef("path", name, "train"), settings)
    assert ref.path is not None
    return str(ref.path)


async def check_data_refs(
    config: TrainingConfig, settings: ServiceSettings, http: httpx.AsyncClient
) -> None:
    """At submit: every path is allowed and is a file; every set id is known to the data-service."""
    tokenizer_source(config, settings)  # a local tokenizer path must be inside the data dir
    for ref in config_refs(config, settings):
        if ref.path is not None:
            if not ref.path.is_file():
                raise DataRefError(ref.field, f"{ref.raw!r} is not a file")
            continue
        url = f"{settings.data_service_url}/training-sets/{ref.set_id}"
        try:
            response = await http.get(url, headers=_auth(settings))
        except httpx.HTTPError as exc:
            raise DataRefError(
                ref.field,
                f"cannot check training set {ref.set_id} with the data-service: {exc}",
                503,
            ) from exc
        if response.status_code == 404:
            raise DataRefError(
                ref.field, f"training set {ref.set_id!r} not found in the data-service"
            )
        if response.status_code >= 400:
            raise DataRefError(
                ref.field, f"data-service answered {response.status_code} for {ref.set_id}", 503
            )


def _auth(settings: ServiceSettings) -> dict[str, str]:
    key = settings.api_key_value()
    return {"Authorization": f"Bearer {key}"} if key else {}


async def load_ref(ref: DataRef, settings: ServiceSettings, http: httpx.AsyncClient) -> LoadedData:
    """The reference's JSONL lines and their sha256 (of the bytes as read)."""
    if ref.path is not None:
        try:
            data = ref.path.read_bytes()
        except OSError as exc:
            raise DataRefError(ref.field, f"cannot read {ref.raw!r}: {exc.strerror}") from exc
        source = str(ref.path)
    else:
        url = f"{settings.data_service_url}/training-sets/{ref.set_id}/download"
        try:
            response = await http.get(url, params={"part": ref.part}, headers=_auth(settings))
        except httpx.HTTPError as exc:
            raise DataRefError(ref.field, f"data-service unreachable: {exc}", 503) from exc
        if response.status_code >= 400:
            raise DataRefError(
                ref.field,
                f"data-service answered {response.status_code} for {ref.set_id} ({ref.part})",
            )
        data = response.content
        source = f"{ref.set_id}:{ref.part}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataRefError(ref.field, f"{source}: not UTF-8 (byte {exc.start})") from exc
    return LoadedData(text.splitlines(), hashlib.sha256(data).hexdigest(), source)
