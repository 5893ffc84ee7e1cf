"""A team's own training JSONL as a training set (``POST /training-sets``): the validator, the
test-set contamination check, the files, the card and the row the built sets have, with the lines
kept as they were written.

- Every line must pass :func:`tutorlab.curriculum.validation.validate_jsonl`; one bad line
  rejects the file (:class:`UploadRejected` lists the problems with their line numbers) and
  nothing is stored. The one repair is the documented one: a digit-string ``grade`` (``"6"``) is
  written back as the number.
- Contamination is checked as for a built set: ``contamination_ngram`` word n-grams against the
  current GSM8K test and MATH test versions; flagged examples are dropped (``drop_contaminated``,
  default) or only reported, and the card lists them with their line numbers.
- ``train.jsonl`` / ``eval.jsonl`` hold the lines as written (seed form or messages form, mixed
  if the file mixes them); ``*.messages.jsonl`` hold every example as messages: messages lines as
  they are, seed lines through the tutoring policy (:func:`tutorlab.tutoring.build_messages`, the
  prompt the tutor is served with) when they name a mode, else the prompt as the user turn with no
  system prompt (the card counts each kind).
- ``eval_fraction`` 0 (default) keeps every example in train; above 0 the held-out part is split
  by source problem (``metadata.source_id``, else the line's ``id``, else the line), stratified
  as for built sets.

The id is content-addressed: ``ts_up_`` + a hash of the bytes received, the options that shape the
set and the test-set versions it was checked against. The same content posted again (as an upload
or by path, under any name) is the same set: nothing is redone and the first name stays.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.curriculum.training_format import Example, MessagesExample
from tutorlab.curriculum.validation import Problem, ValidationReport, validate_jsonl
from tutorlab.datasets.records import DatasetRecord
from tutorlab.jobs.models import utcnow
from tutorlab.tutoring import PROMPT_VERSION, build_messages

from data_service.contamination import ContaminationIndex, ContaminationReport
from data_service.dataset_store import DatasetStore, sha256_bytes
from data_service.models import TrainingSet
from data_service.training_sets import (
    SourceProblem,
    contamination_summary,
    example_counts,
    reference_records,
    save_training_set,
    set_checksum,
    split_sources,
    write_set_files,
)

UPLOAD_BUILDER = "upload"
UPLOAD_BUILDER_VERSION = "1"
#: problems listed in a rejection (the total is always given)
MAX_PROBLEMS_SHOWN = 50


class UploadOptions(BaseModel):
    """How a user's file becomes a set; the same fields as JSON or as multipart form fields."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    eval_fraction: float = Field(
        default=0.0, ge=0.0, lt=0.5, description="held-out share (0: every example is train)"
    )
    seed: int = Field(default=0, description="the train/eval split's seed")
    contamination_ngram: int = Field(default=13, ge=5, le=50)
    drop_contaminated: bool = Field(
        default=True, description="drop examples overlapping a test problem (else only report)"
    )
    require_references: bool = Field(
        default=True, description="refuse unless GSM8K test and MATH test are imported"
    )
    max_tokens: int = Field(default=4096, ge=16, le=1_000_000, description="per-example limit")

    def shaping(self) -> dict[str, Any]:
        """The options that change what is stored (not the name or description)."""
        return self.model_dump(mode="json", exclude={"name", "description"})


class PathUpload(UploadOptions):
    """``{"path", "name", …}``: a file inside the data directory or the dataset mirror."""

    path: str = Field(min_length=1, max_length=4096)
    name: str = Field(min_length=1, max_length=200)


@dataclass(frozen=True)
class UploadSource:
    """The bytes of the user's file and where they came from."""

    kind: Literal["upload", "path"]
    name: str  # the uploaded file's name, or the path as given
    data: bytes
    resolved: Path | None = None  # a path source: where it resolved to

    def describe(self) -> dict[str, Any]:
        where = {"filename": self.name} if self.kind == "upload" else {"path": self.name}
        if self.resolved is not None:
            where["resolved_path"] = str(self.resolved)
        return {
            "kind": self.kind,
            **where,
            "bytes": len(self.data),
            "sha256": sha256_bytes(self.data),
        }


class UploadRejected(ValueError):
    """The file cannot become a set; ``problems`` (if any) name their lines."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ReferencesMissing(LookupError):
    """The test sets the contamination check needs are not imported."""


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    data: dict[str, Any]  # as written, grade as an int
    example: Example


@dataclass
class _Built:
    report: ValidationReport
    lines: list[_Line]
    train: list[_Line]
    eval: list[_Line]
    contamination: ContaminationReport | None
    split: dict[str, Any]


def uploaded_set_id(data: bytes, options: UploadOptions, references: list[dict[str, Any]]) -> str:
    """Content-addressed: same bytes, shaping options and test-set versions -> same id."""
    key = {
        "sha256": sha256_bytes(data),
        "options": options.shaping(),
        "references": sorted(r["version"] for r in references),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return f"ts_up_{digest[:24]}"


def rejection_message(source: UploadSource, report: ValidationReport) -> str:
    shown = "; ".join(
        f"line {p.line}: {p.field + ': ' if p.field else ''}{p.message}"
        for p in report.problems[:3]
    )
    bad_lines = len({p.line for p in report.problems})
    more = " …" if len(report.problems) > 3 else ""
    return (
        f"{source.kind} {source.name!r}: {len(report.problems)} problem(s) on {bad_lines} of "
        f"{report.n_lines} line(s), nothing stored: {shown}{more}"
    )


def messages_line(line: _Line) -> dict[str, Any]:
    """The example in messages form (see the module docstring)."""
    example = line.example
    if isinstance(example, MessagesExample):
        return line.data
    if example.mode is not None:
        turns = [
            m.model_dump()
            for m in build_messages(example.student_message, example.mode, example.grade)
        ]
    else:
        turns = [{"role": "user", "content": example.prompt}]
    turns.append({"role": "assistant", "content": example.response})
    out: dict[str, Any] = {"id": line.data["id"]} if "id" in line.data else {}
    out["messages"] = turns
    out.update((k, v) for k, v in line.data.items() if k not in ("id", "prompt", "response"))
    if example.mode is not None:
        out.setdefault("mode", example.mode)
    return out


def _name(line: _Line) -> str:
    value = line.data.get("id")
    return str(value) if value is not None else f"line {line.number}"


def _source_key(line: _Line) -> str:
    source_id = line.example.metadata.get("source_id")
    return source_id if isinstance(source_id, str) and source_id else _name(line)


def _split(
    lines: list[_Line], options: UploadOptions
) -> tuple[list[_Line], list[_Line], dict[str, Any]]:
    if options.eval_fraction == 0:
        return lines, [], {"by": "none (eval_fraction 0: every example is train)"}
    problems: dict[str, SourceProblem] = {}
    for line in lines:
        key = _source_key(line)
        problems.setdefault(key, SourceProblem(key, line.example.grade, line.example.topic_tags))
    split, strata_by = split_sources(list(problems.values()), options.eval_fraction, options.seed)
    held_out = set(split.eval_ids)
    info = {
        "by": f"source problem (metadata.source_id, else id, else line), stratified by {strata_by}",
        "seed": options.seed,
        "eval_fraction": options.eval_fraction,
        "problems": {"train": len(split.train), "eval": len(split.eval)},
    }
    train = [x for x in lines if _source_key(x) not in held_out]
    return train, [x for x in lines if _source_key(x) in held_out], info


def _build(source: UploadSource, options: UploadOptions, references: list[DatasetRecord]) -> _Built:
    lines: list[_Line] = []
    report = validate_jsonl(
        source.data,
        max_tokens=options.max_tokens,
        on_example=lambda number, data, example: lines.append(_Line(number, data, example)),
    )
    if not report.ok:
        raise UploadRejected(rejection_message(source, report), report.problems)
    if not lines:
        raise UploadRejected(f"{source.kind} {source.name!r}: no training example in the file")
    contamination: ContaminationReport | None = None
    kept = lines
    if references:
        index = ContaminationIndex.from_records(references, ngram=options.contamination_ngram)
        contamination = index.check([x.data for x in lines], ids=[_name(x) for x in lines])
        if options.drop_contaminated:
            kept = [lines[i] for i in contamination.kept]
    if not kept:
        raise UploadRejected(
            f"{source.kind} {source.name!r}: every one of the {len(lines)} example(s) overlaps a "
            "test problem (contamination); nothing stored (drop_contaminated=false keeps them)"
        )
    train, evals, split = _split(kept, options)
    return _Built(report, lines, train, evals, contamination, split)


def _write(directory: Path, built: _Built) -> dict[str, dict[str, Any]]:
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for part, lines in (("train", built.train), ("eval", built.eval)):
        rows[part, "prompt"] = [x.data for x in lines]
        rows[part, "messages"] = [messages_line(x) for x in lines]
    return write_set_files(directory, rows)


def _messages_form(lines: list[_Line]) -> dict[str, int]:
    as_written = sum(isinstance(x.example, MessagesExample) for x in lines)
    policy = sum(
        not isinstance(x.example, MessagesExample) and x.example.mode is not None for x in lines
    )
    return {
        "as_written": as_written,
        "policy_system_prompt": policy,
        "no_system_prompt": len(lines) - as_written - policy,
    }


def _card(
    set_id: str,
    source: UploadSource,
    options: UploadOptions,
    built: _Built,
    files: dict[str, dict[str, Any]],
    reference_versions: list[dict[str, Any]],
    missing: list[str],
) -> dict[str, Any]:
    contamination = contamination_summary(
        built.contamination,
        ngram=options.contamination_ngram,
        references=reference_versions,
        missing=missing,
        dropped=options.drop_contaminated,
    )
    if built.contamination is not None:
        for entry, flagged in zip(
            contamination["examples"], built.contamination.flagged, strict=False
        ):
            entry["line"] = built.lines[flagged.index].number
    kept = built.train + built.eval
    described = source.describe()
    return {
        "id": set_id,
        "builder": UPLOAD_BUILDER,
        "builder_version": UPLOAD_BUILDER_VERSION,
        "job_id": None,
        "created_at": utcnow().isoformat(),
        "name": options.name,
        "description": options.description,
        "prompt_version": PROMPT_VERSION,
        "source": described,
        "sources": [described],
        "params": options.shaping(),
        "sha256": set_checksum(files),
        "counts": {
            "lines": built.report.n_lines,
            "kept": len(kept),
            "train": example_counts([x.example for x in built.train]),
            "eval": example_counts([x.example for x in built.eval]),
            "all": example_counts([x.example for x in kept]),
        },
        "formats": built.report.counts_by_format,
        "contamination": contamination,
        "split": built.split,
        "validation": {
            "ok": True,
            "checked": built.report.n_lines,
            "max_tokens": options.max_tokens,
        },
        "messages_form": _messages_form(kept),
        "files": files,
    }


async def create_uploaded_set(
    source: UploadSource,
    options: UploadOptions,
    *,
    store: DatasetStore,
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[TrainingSet, bool]:
    """The set for ``source`` and whether it was created now (False: the same content was
    already a set). Raises :class:`UploadRejected` for a file that cannot be one, and
    :class:`ReferencesMissing` when the test sets the contamination check needs are not imported."""
    try:
        references, reference_versions, missing = await reference_records(
            store, options.require_references
        )
    except LookupError as exc:
        raise ReferencesMissing(str(exc)) from exc
    set_id = uploaded_set_id(source.data, options, reference_versions)
    relative = f"training_sets/{set_id}"
    directory = store.absolute(relative)
    existing = await _existing(sessions, set_id, directory)
    if existing is not None:
        return existing, False
    built = await asyncio.to_thread(_build, source, options, references)
    files = await asyncio.to_thread(_write, directory, built)
    card = _card(set_id, source, options, built, files, reference_versions, missing)
    row = TrainingSet(
        id=set_id,
        builder=UPLOAD_BUILDER,
        sha256=card["sha256"],
        train_rows=len(built.train),
        eval_rows=len(built.eval),
        path=relative,
        prompt_version=PROMPT_VERSION,
        card=card,
        job_id=None,
    )
    try:
        await save_training_set(sessions, directory, row)
    except IntegrityError:  # the same content, posted at the same moment, won the insert
        winner = await _existing(sessions, set_id, directory)
        if winner is None:
            raise
        return winner, False
    return row, True


async def _existing(
    sessions: async_sessionmaker[AsyncSession], set_id: str, directory: Path
) -> TrainingSet | None:
    async with sessions() as session:
        row = await session.get(TrainingSet, set_id)
    return row if row is not None and (directory / "card.json").is_file() else None
