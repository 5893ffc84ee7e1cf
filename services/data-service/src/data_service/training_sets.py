"""What every builder does after generating examples: de-duplicate, check for test-set
contamination, split train/eval by source problem, write the files and the card.

Files of a set, under ``<data_dir>/training_sets/<id>/``: ``train.jsonl`` / ``eval.jsonl`` (the
seed form ``{prompt, response, grade, topic_tags, mode, id, metadata}``), ``train.messages.jsonl``
/ ``eval.messages.jsonl`` (the same examples as ``{messages, …}``, system prompt included),
``card.json`` and, for teacher sets, ``rejected.jsonl``. The set's checksum covers the four JSONL
files and nothing time-dependent, so the same inputs and seed give the same checksum.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.curriculum.validation import validate_jsonl
from tutorlab.datasets.records import DatasetRecord
from tutorlab.jobs.models import utcnow
from tutorlab.tutoring import PROMPT_VERSION, build_messages, training_prompt

from data_service.builders.socratic import TutorExample
from data_service.contamination import ContaminationIndex, ContaminationReport
from data_service.dataset_store import DatasetStore, sha256_bytes, to_jsonl, write_atomic
from data_service.dedup import deduplicate
from data_service.models import DatasetVersion, TrainingSet
from data_service.splitting import SplitResult, stratified_split

#: the benchmark test sets every built set is checked against
REFERENCE_SPLITS: tuple[tuple[str, str], ...] = (("gsm8k", "test"), ("math", "test"))
PARTS: tuple[str, ...] = ("train", "eval")
FORMATS: dict[str, str] = {"prompt": "{part}.jsonl", "messages": "{part}.messages.jsonl"}
MAX_FLAGGED_IN_CARD = 50


class CommonBuildParams(BaseModel):
    """Options every builder shares: split, de-duplication, contamination."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=0, description="same seed and inputs -> same set (same checksum)")
    eval_fraction: float = Field(default=0.1, gt=0.0, lt=0.5)
    dedup_threshold: float = Field(
        default=0.8, gt=0.0, le=1.0, description="near-duplicate Jaccard (3-word shingles)"
    )
    contamination_ngram: int = Field(default=13, ge=5, le=50)
    drop_contaminated: bool = Field(
        default=True, description="drop examples overlapping a test problem (else only report)"
    )
    require_references: bool = Field(
        default=True, description="fail unless GSM8K test and MATH test are imported"
    )


@dataclass
class SourceProblem:
    """A source problem's stratum (the split keeps all examples of a problem on one side)."""

    id: str
    grade: int
    topic_tags: list[str]


@dataclass
class BuildInput:
    builder: str
    builder_version: str
    params: dict[str, Any]
    examples: list[TutorExample]
    problems: list[SourceProblem]
    sources: list[dict[str, Any]]
    extra_card: dict[str, Any] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def training_set_id(job_id: str) -> str:
    """A set is the product of one job: ``dat_ab12…`` -> ``ts_ab12…`` (a re-run job rewrites it)."""
    return "ts_" + job_id.split("_", 1)[-1]


def example_id(example: TutorExample) -> str:
    return f"{example.source_id}:{example.mode}"


def prompt_form(example: TutorExample) -> dict[str, Any]:
    return {
        "id": example_id(example),
        "prompt": training_prompt(example.message, example.mode),
        "response": example.response,
        "grade": example.grade,
        "topic_tags": list(example.topic_tags),
        "mode": example.mode,
        "metadata": {"source_id": example.source_id, **example.meta},
    }


def messages_form(example: TutorExample) -> dict[str, Any]:
    turns = build_messages(example.message, example.mode, example.grade)
    messages = [m.model_dump() for m in turns]
    messages.append({"role": "assistant", "content": example.response})
    return {
        "id": example_id(example),
        "messages": messages,
        "grade": example.grade,
        "topic_tags": list(example.topic_tags),
        "mode": example.mode,
        "metadata": {"source_id": example.source_id, **example.meta},
    }


async def reference_records(
    store: DatasetStore, required: bool
) -> tuple[list[DatasetRecord], list[dict[str, Any]], list[str]]:
    """Records of the current GSM8K test and MATH test versions, what they are, what's missing."""
    records: list[DatasetRecord] = []
    used: list[dict[str, Any]] = []
    missing: list[str] = []
    for name, split in REFERENCE_SPLITS:
        version = await store.current(name, split)
        if version is None:
            missing.append(f"{name}/{split}")
            continue
        rows = await store.load_records(version)
        records += [DatasetRecord.model_validate(r) for r in rows]
        used.append(version_ref(version))
    if missing and required:
        raise LookupError(
            f"the contamination check needs {', '.join(missing)} imported: POST /datasets/download "
            "(or pass require_references=false to build without checking against them)"
        )
    return records, used, missing


def version_ref(version: DatasetVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "split": version.split,
        "version": version.id,
        "sha256": version.sha256,
        "rows": version.rows,
        "source": version.source,
    }


#: stratum keys tried in turn until the eval side gets examples (small sets have small strata)
_STRATA: tuple[tuple[str, Any], ...] = (
    ("(top-level topic, grade)", None),
    ("grade", lambda item: ("any", item["grade"])),
    ("nothing (one stratum)", lambda item: ("any", 0)),
)


def split_sources(
    sources: Sequence[SourceProblem], eval_fraction: float, seed: int
) -> tuple[SplitResult, str]:
    """Train/eval split of the source problems, stratified as finely as their number allows."""
    items = [{"grade": p.grade, "topic_tags": p.topic_tags} for p in sources]
    ids = [p.id for p in sources]
    split: SplitResult | None = None
    for label, key in _STRATA:
        split = stratified_split(
            items, ids=ids, eval_fraction=eval_fraction, seed=seed, topic_depth=1, key=key
        )
        if split.eval:
            return split, label
    assert split is not None
    return split, _STRATA[-1][0]


@dataclass
class _Processed:
    kept: list[TutorExample]
    dedup: dict[str, Any]
    contamination: ContaminationReport | None
    contaminated_ids: list[str]
    train: list[TutorExample]
    eval: list[TutorExample]
    split: dict[str, Any]


def _process(
    data: BuildInput, common: CommonBuildParams, references: Sequence[DatasetRecord]
) -> _Processed:
    examples = data.examples
    # de-duplicate within each mode: a hint and a check on one problem are not duplicates
    dropped_dups: list[dict[str, Any]] = []
    keep_mask = [True] * len(examples)
    for mode in sorted({e.mode for e in examples}):
        positions = [i for i, e in enumerate(examples) if e.mode == mode]
        result = deduplicate(
            [prompt_form(examples[i]) for i in positions], threshold=common.dedup_threshold
        )
        for dup in result.dropped:
            keep_mask[positions[dup.index]] = False
            dropped_dups.append(
                dup.model_dump(include={"id", "reason", "duplicate_of", "similarity"})
            )
    deduped = [e for e, keep in zip(examples, keep_mask, strict=True) if keep]
    dedup = {
        "threshold": common.dedup_threshold,
        "exact": sum(d["reason"] == "exact" for d in dropped_dups),
        "near": sum(d["reason"] == "near" for d in dropped_dups),
        "dropped": dropped_dups[:MAX_FLAGGED_IN_CARD],
    }

    report: ContaminationReport | None = None
    contaminated_ids: list[str] = []
    kept = deduped
    if references:
        index = ContaminationIndex.from_records(references, ngram=common.contamination_ngram)
        report = index.check([prompt_form(e) for e in deduped])
        contaminated_ids = [f.id for f in report.flagged]
        if common.drop_contaminated:
            kept = [deduped[i] for i in report.kept]

    by_source: dict[str, SourceProblem] = {p.id: p for p in data.problems}
    present = sorted({e.source_id for e in kept})
    sources = [by_source[s] for s in present]
    split, strata_by = split_sources(sources, common.eval_fraction, common.seed)
    eval_sources = set(split.eval_ids)
    train = [e for e in kept if e.source_id not in eval_sources]
    evals = [e for e in kept if e.source_id in eval_sources]
    split_info = {
        "by": f"source problem, stratified by {strata_by}",
        "seed": common.seed,
        "eval_fraction": common.eval_fraction,
        "problems": {"train": len(split.train), "eval": len(split.eval)},
        "strata": len(split.strata),
        "too_small_strata": len(split.too_small),
    }
    return _Processed(kept, dedup, report, contaminated_ids, train, evals, split_info)


class Tagged(Protocol):
    """What the card counts: a built example or a parsed uploaded one."""

    @property
    def mode(self) -> str | None: ...
    @property
    def grade(self) -> int: ...
    @property
    def topic_tags(self) -> Sequence[str]: ...


def example_counts(examples: Sequence[Tagged]) -> dict[str, Any]:
    """Examples by mode (``unspecified`` when none), grade and primary (first) topic."""
    topics: Counter[str] = Counter()
    for e in examples:
        if e.topic_tags:
            topics[e.topic_tags[0]] += 1
    modes = Counter(e.mode or "unspecified" for e in examples)
    return {
        "examples": len(examples),
        "by_mode": dict(sorted(modes.items())),
        "by_grade": {str(g): n for g, n in sorted(Counter(e.grade for e in examples).items())},
        "by_topic": dict(topics.most_common()),
    }


def contamination_summary(
    report: ContaminationReport | None,
    *,
    ngram: int,
    references: list[dict[str, Any]],
    missing: list[str],
    dropped: bool,
) -> dict[str, Any]:
    """The card's ``contamination`` block (at most ``MAX_FLAGGED_IN_CARD`` flagged examples)."""
    summary: dict[str, Any] = {
        "ngram": ngram,
        "references": references,
        "missing_references": missing,
        "checked": 0,
        "flagged": 0,
        "dropped": dropped,
        "examples": [],
    }
    if report is not None:
        summary.update(
            checked=report.n_checked,
            flagged=report.n_flagged,
            examples=[
                f.model_dump(include={"id", "test_id", "overlap_ngrams", "sample"})
                for f in report.flagged[:MAX_FLAGGED_IN_CARD]
            ],
        )
    return summary


async def save_training_set(
    sessions: async_sessionmaker[AsyncSession], directory: Path, row: TrainingSet
) -> None:
    """Write the row's card as ``card.json`` beside the set's files, then upsert the row."""
    card = json.dumps(row.card, indent=2).encode() + b"\n"
    await asyncio.to_thread(write_atomic, directory / "card.json", card)
    async with sessions() as session:
        await session.merge(row)
        await session.commit()


def write_set_files(
    directory: Path, rows: Mapping[tuple[str, str], Sequence[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Write each (part, format)'s rows as JSONL; the card's ``files`` (name, rows, sha256)."""
    files: dict[str, dict[str, Any]] = {}
    for (part, fmt), lines in rows.items():
        data = to_jsonl(lines)
        name = FORMATS[fmt].format(part=part)
        write_atomic(directory / name, data)
        files[part if fmt == "prompt" else f"{part}_messages"] = {
            "file": name,
            "rows": len(lines),
            "sha256": sha256_bytes(data),
        }
    return files


def _write_files(directory: Path, processed: _Processed) -> dict[str, dict[str, Any]]:
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for part, examples in (("train", processed.train), ("eval", processed.eval)):
        rows[part, "prompt"] = [prompt_form(e) for e in examples]
        rows[part, "messages"] = [messages_form(e) for e in examples]
    return write_set_files(directory, rows)


def set_checksum(files: dict[str, dict[str, Any]]) -> str:
    joined = "\n".join(f"{key}:{files[key]['sha256']}" for key in sorted(files))
    return hashlib.sha256(joined.encode()).hexdigest()


async def finish_training_set(
    *,
    job_id: str,
    data: BuildInput,
    common: CommonBuildParams,
    store: DatasetStore,
    sessions: async_sessionmaker[AsyncSession],
) -> dict[str, Any]:
    """Run the shared pipeline, write files + card, upsert the row; returns the job result."""
    references, reference_versions, missing = await reference_records(
        store, common.require_references
    )
    processed = await asyncio.to_thread(_process, data, common, references)
    set_id = training_set_id(job_id)
    relative = f"training_sets/{set_id}"
    directory = store.absolute(relative)
    files = await asyncio.to_thread(_write_files, directory, processed)
    if data.rejected:
        await asyncio.to_thread(write_atomic, directory / "rejected.jsonl", to_jsonl(data.rejected))
    validation = await asyncio.to_thread(validate_jsonl, directory / files["train"]["file"])
    messages_validation = await asyncio.to_thread(
        validate_jsonl, directory / files["train_messages"]["file"]
    )
    if not (validation.ok and messages_validation.ok):
        problems = (validation.problems + messages_validation.problems)[:5]
        raise ValueError(
            "built set failed validation: "
            + "; ".join(f"line {p.line}: {p.field or ''} {p.message}" for p in problems)
        )
    checksum = set_checksum(files)
    contamination = contamination_summary(
        processed.contamination,
        ngram=common.contamination_ngram,
        references=reference_versions,
        missing=missing,
        dropped=common.drop_contaminated,
    )
    card: dict[str, Any] = {
        "id": set_id,
        "builder": data.builder,
        "builder_version": data.builder_version,
        "job_id": job_id,
        "created_at": utcnow().isoformat(),
        "prompt_version": PROMPT_VERSION,
        "sources": data.sources,
        "params": data.params,
        "sha256": checksum,
        "counts": {
            "generated": len(data.examples),
            "kept": len(processed.kept),
            "train": example_counts(processed.train),
            "eval": example_counts(processed.eval),
            "all": example_counts(processed.train + processed.eval),
        },
        "dedup": processed.dedup,
        "contamination": contamination,
        "split": processed.split,
        "validation": {"ok": True, "checked": validation.n_lines + messages_validation.n_lines},
        "files": files,
        **data.extra_card,
    }
    row = TrainingSet(
        id=set_id,
        builder=data.builder,
        sha256=checksum,
        train_rows=len(processed.train),
        eval_rows=len(processed.eval),
        path=relative,
        prompt_version=PROMPT_VERSION,
        card=card,
        job_id=job_id,
    )
    await save_training_set(sessions, directory, row)
    return {
        "training_set": set_id,
        "sha256": checksum,
        "train": len(processed.train),
        "eval": len(processed.eval),
        "contaminated": contamination["flagged"],
        "links": {"self": f"/training-sets/{set_id}"},
    }


class TrainingSetStore:
    """Reads of built sets (rows and files)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> None:
        self.sessions = sessions
        self.data_dir = data_dir

    async def list(
        self, builder: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TrainingSet]:
        query = select(TrainingSet)
        if builder is not None:
            query = query.where(TrainingSet.builder == builder)
        query = query.order_by(col(TrainingSet.created_at).desc()).offset(offset).limit(limit)
        async with self.sessions() as session:
            return list((await session.exec(query)).all())

    async def get(self, set_id: str) -> TrainingSet | None:
        async with self.sessions() as session:
            return await session.get(TrainingSet, set_id)

    def file(self, row: TrainingSet, part: str, fmt: str) -> Path:
        return self.data_dir / row.path / FORMATS[fmt].format(part=part)
