"""What a training run reads: its examples (rendered with loss weights), its eval set, its RLVR
problems and its in-training monitor slice. Every problem with an input is an
:class:`InputError` naming the config field (and the line, for a bad JSONL line)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from pydantic import ValidationError
from tutorlab.curriculum.training_format import Example, parse_example

from trainer_service.config import TrainerServiceSettings
from trainer_service.config_sections import DataRef as ConfigDataRef
from trainer_service.data_refs import (
    DataRef,
    DataRefError,
    LoadedData,
    config_refs,
    load_ref,
    resolve_ref,
)
from trainer_service.monitor import MonitorSlice
from trainer_service.problems import (
    ProblemSourceError,
    load_dataset_problems,
    parse_problem_lines,
    sample_slice,
)
from trainer_service.rendering import Renderer, RenderError
from trainer_service.rewards import Problem
from trainer_service.training_config import TrainingConfig

log = logging.getLogger("trainer_service.data")

Rendered = tuple[list[int], list[float]]


class InputError(Exception):
    """A run's input cannot be used; the message starts with the config field."""


@dataclass
class TrainingData:
    config: TrainingConfig
    settings: TrainerServiceSettings
    http: httpx.AsyncClient
    #: what was read, by part (train, eval): source, count, sha256 — the experiment's record
    record: dict[str, Any] = field(default_factory=dict)
    #: why the monitor slice is empty, when it could not be loaded
    monitor_error: str | None = None

    def refs(self) -> tuple[DataRef | None, DataRef | None]:
        """The train and eval data references, checked against the readable directories."""
        try:
            refs = config_refs(self.config, self.settings)
        except DataRefError as exc:
            raise InputError(f"{exc.field}: {exc}") from exc
        train = next((r for r in refs if r.field == "data.train_file"), None)
        evaluation = next((r for r in refs if r.field == "data.eval_file"), None)
        return train, evaluation

    async def load(self, ref: DataRef) -> LoadedData:
        try:
            return await load_ref(ref, self.settings, self.http)
        except DataRefError as exc:
            raise InputError(f"{exc.field}: {exc}") from exc

    async def examples(self, ref: DataRef) -> list[Example]:
        """The training examples of a reference; a bad line is an error naming it."""
        loaded = await self.load(ref)
        examples: list[Example] = []
        for number, line in enumerate(loaded.lines, 1):
            if not line.strip():
                continue
            try:
                examples.append(parse_example(json.loads(line)))
            except (ValueError, ValidationError) as exc:
                raise InputError(
                    f"{ref.field}: {loaded.source} line {number}: {str(exc).splitlines()[0][:300]}"
                ) from exc
        self._record(ref, loaded, len(examples))
        return examples

    async def rendered(self, ref: DataRef, renderer: Renderer) -> list[Rendered]:
        """Rendered examples with loss weights; one whose prompt alone fills ``max_length`` has
        nothing to learn and is left out (counted in the record)."""
        examples = await self.examples(ref)
        max_length = self.config.training.max_length
        try:
            rendered = await asyncio.to_thread(renderer.render_examples, examples, max_length)
        except RenderError as exc:
            raise InputError(f"{ref.field}: {exc}") from exc
        kept = [(list(r.tokens), list(r.weights)) for r in rendered if r.trainable]
        self.record[self._part(ref)]["skipped_too_long"] = len(rendered) - len(kept)
        if not kept:
            raise InputError(f"{ref.field}: no example fits training.max_length {max_length}")
        return kept

    async def monitor_slice(self) -> MonitorSlice:
        """The fixed GSM8K test slice sampled during training; empty (with the reason kept in
        ``monitor_error``) when GSM8K test is neither in the mirror nor in the data-service."""
        m = self.config.monitor
        if m.gsm8k_items + m.tutoring_items == 0:
            return MonitorSlice([], [])
        try:
            problems = await self._dataset_problems("gsm8k", "test")
        except ProblemSourceError as exc:
            log.warning("no monitor slice: %s", exc)
            self.monitor_error = str(exc)
            return MonitorSlice([], [])
        count = m.gsm8k_items + m.tutoring_items
        chosen = sample_slice(problems, count, self.config.training.seed)
        return MonitorSlice.of(chosen, m.gsm8k_items, m.tutoring_items)

    async def rlvr_problems(self) -> list[Problem]:
        """RLVR's problems: a dataset split or a JSONL file, a seeded ``limit``, the share asked
        in ``hint`` mode."""
        options = self.config.rlvr
        assert options is not None
        spec = options.problems
        seed = self.config.training.seed
        try:
            if spec.source == "file":
                assert spec.file is not None
                path = ConfigDataRef("path", spec.file, "train")
                ref = resolve_ref("rlvr.problems.file", path, self.settings)
                loaded = await self.load(ref)
                problems = parse_problem_lines(loaded.lines, loaded.source)
                source, sha = loaded.source, loaded.sha256
            else:
                problems = await self._dataset_problems(spec.source, spec.split)
                source, sha = f"{spec.source}/{spec.split}", ""
        except (ProblemSourceError, DataRefError) as exc:
            raise InputError(f"rlvr.problems: {exc}") from exc
        if spec.limit:  # a seeded sample, in the dataset's order
            keep = {p.id for p in sample_slice(problems, spec.limit, seed)}
            problems = [p for p in problems if p.id in keep]
        if not problems:
            raise InputError("rlvr.problems: no problem with a gold answer")
        if spec.source == "math":
            problems = [replace(p, grade=11) for p in problems]
        if options.hint_fraction > 0:
            rng = random.Random(seed)
            problems = [
                replace(p, mode="hint") if rng.random() < options.hint_fraction else p
                for p in problems
            ]
        self.record["train"] = {"source": source, "count": len(problems), "sha256": sha}
        return problems

    async def _dataset_problems(self, name: str, split: str) -> list[Problem]:
        return await load_dataset_problems(
            name,
            split,
            mirror=self.settings.dataset_mirror,
            http=self.http,
            data_service_url=self.settings.data_service_url,
        )

    @staticmethod
    def _part(ref: DataRef) -> str:
        return "train" if ref.field == "data.train_file" else "eval"

    def _record(self, ref: DataRef, loaded: LoadedData, count: int) -> None:
        self.record[self._part(ref)] = {
            "source": loaded.source,
            "count": count,
            "sha256": loaded.sha256,
        }
