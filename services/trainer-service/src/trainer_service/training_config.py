"""The training config: what ``POST /trainings`` and ``tutorlab train run --config`` accept.

:func:`parse_config` turns YAML or JSON text into a :class:`TrainingConfig` or raises
:class:`ConfigError` listing every problem with its dotted field path and, where the text
tells, its line. The seed's config works as written; everything beyond it has a default taken
from tinker-cookbook 0.6.1's recipes for an 8B model (``METHOD_DEFAULTS`` says which).
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, model_validator
from tutorlab.service.nul_chars import NUL_MSG, nul_path

from trainer_service.base_models import UnknownBaseModel, resolve_base_model
from trainer_service.config_sections import (
    ENDPOINT_NAME,
    RUN_NAME_PATTERN,
    BenchmarkAfter,
    Block,
    DataSection,
    DistillationOptions,
    Float,
    ModelSection,
    MonitorOptions,
    RlvrOptions,
    SftOptions,
    SimulatedOptions,
    TrainingSection,
)
from trainer_service.config_source import (
    ConfigError,
    ConfigFormat,
    ConfigProblem,
    Path,
    SourceText,
    dotted,
    read_source,
)

Method = Literal["sft", "distillation", "rlvr"]
METHODS: tuple[str, ...] = get_args(Method)
Backend = Literal["tinker", "simulated"]

#: Defaults that differ by method, as ``"section.field": value``. Sources (tinker-cookbook 0.6.1):
#: sft -> ``recipes/chat_sl`` + ``supervised/train.py`` (lr 1e-4 linear, rank 32) and
#: ``recipes/sl_basic.py`` (batch 128); distillation.off_policy -> ``recipes/distillation/
#: off_policy_reasoning.py`` (SFT on teacher data: lr 1e-3 with LoRA, rank 128, batch 128,
#: linear); distillation.on_policy -> ``recipes/distillation/on_policy_distillation.py`` (lr 1e-4,
#: rank 128, 4 samples per prompt, temperature 1.0, KL coefficient 1.0, constant lr) with two
#: deliberate cuts for short tutoring replies: 1024 tokens (recipe: 4096 for reasoning) and 64
#: prompts per step (recipe: 512-1024); rlvr -> ``recipes/math_rl`` (rank 32, constant lr, GSM8K
#: run's 8e-5; its group and batch sizes live in ``RlvrOptions``).
METHOD_DEFAULTS: dict[str, dict[str, Any]] = {
    "sft": {
        "model.lora_rank": 32,
        "training.learning_rate": 1e-4,
        "training.lr_schedule": "linear",
        "training.batch_size": 128,
    },
    "distillation.off_policy": {
        "model.lora_rank": 128,
        "training.learning_rate": 1e-3,
        "training.lr_schedule": "linear",
        "training.batch_size": 128,
    },
    "distillation.on_policy": {
        "model.lora_rank": 128,
        "training.learning_rate": 1e-4,
        "training.lr_schedule": "constant",
        "training.batch_size": 64,
        "distillation.samples_per_prompt": 4,
        "distillation.max_tokens": 1024,
        "distillation.temperature": 1.0,
        "distillation.kl_coef": 1.0,
    },
    "rlvr": {
        "model.lora_rank": 32,
        "training.learning_rate": 8e-5,
        "training.lr_schedule": "constant",
    },
}

#: distillation fields that only the on-policy loop reads
_ON_POLICY_ONLY: tuple[str, ...] = ("samples_per_prompt", "max_tokens", "temperature", "kl_coef")


def defaults_key(method: object, distillation: object) -> str | None:
    """The ``METHOD_DEFAULTS`` key for raw config values (None when they name no method)."""
    if method == "distillation":
        mode = distillation.get("mode") if isinstance(distillation, dict) else None
        return f"distillation.{mode}" if mode in ("on_policy", "off_policy") else None
    return method if method in ("sft", "rlvr") else None


def _with_method_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    key = defaults_key(raw.get("method", "sft"), raw.get("distillation"))
    if key is None:
        return raw
    data = copy.copy(raw)
    for dotted_field, value in METHOD_DEFAULTS[key].items():
        section, name = dotted_field.split(".")
        block = data.get(section)
        if isinstance(block, BaseModel):
            block = block.model_dump(exclude_unset=True)
        if block is None and section != "distillation":
            block = {}
        if not isinstance(block, dict):
            continue  # not a mapping: validation reports it
        if name not in block:
            data[section] = {**block, name: value}
    return data


def tokenizer_family(hf_id: str) -> str:
    """``Qwen/Qwen3-8B`` -> ``Qwen/Qwen3``: models in one family share a tokenizer."""
    owner, _, name = hf_id.partition("/")
    return f"{owner}/{name.split('-')[0]}"


class TrainingConfig(Block):
    """A whole training run. Built by :func:`parse_config`; ``to_yaml()`` is what the
    experiment folder keeps (every default filled in)."""

    name: str | None = Field(default=None, pattern=RUN_NAME_PATTERN)
    method: Method = "sft"
    backend: Backend = "tinker"
    model: ModelSection
    data: DataSection = Field(default_factory=DataSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    sft: SftOptions | None = None
    distillation: DistillationOptions | None = None
    rlvr: RlvrOptions | None = None
    monitor: MonitorOptions = Field(default_factory=MonitorOptions)
    simulated: SimulatedOptions | None = None
    max_cost_usd: Float | None = Field(default=None, gt=0)
    benchmark_after: BenchmarkAfter | None = None

    @model_validator(mode="before")
    @classmethod
    def _method_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = _with_method_defaults(data)
            if data.get("method", "sft") == "rlvr" and data.get("rlvr") is None:
                data = {**data, "rlvr": {}}
        return data

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> TrainingConfig:
        problems = list(self.cross_field_problems())
        sink = info.context.get("problems") if isinstance(info.context, dict) else None
        if isinstance(sink, list):
            sink.extend(problems)
        elif problems:
            raise ValueError("; ".join(f"{dotted(path)}: {message}" for path, message in problems))
        return self

    # --- derived values -------------------------------------------------------------------

    @property
    def resolved_base_model(self) -> str:
        """The Hugging Face id Tinker trains (``qwen3:8b`` -> ``Qwen/Qwen3-8B``)."""
        return resolve_base_model(self.model.base_model)

    @property
    def resolved_teacher(self) -> str | None:
        """On-policy: the teacher's Hugging Face id or tinker:// path; off-policy: the
        registered endpoint name; None without distillation."""
        if self.distillation is None:
            return None
        teacher = self.distillation.teacher.strip()
        if self.distillation.mode == "on_policy" and not teacher.startswith("tinker://"):
            return resolve_base_model(teacher, field="distillation.teacher")
        return teacher

    @property
    def step_batch_size(self) -> int:
        """Examples (SFT, off-policy), prompts (on-policy) or problems (RLVR) per step."""
        if self.method == "rlvr":
            assert self.rlvr is not None
            return self.rlvr.groups_per_batch
        assert self.training.batch_size is not None
        return self.training.batch_size

    def to_yaml(self) -> str:
        """The normalised config, every default filled in: what a run actually used."""
        body = yaml.safe_dump(
            self.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
        )
        return (
            "# normalised by trainer-service: every default filled in\n"
            f"# base model: {self.resolved_base_model}\n" + body
        )

    # --- checks across fields ---------------------------------------------------------------

    def cross_field_problems(self) -> Iterator[tuple[Path, str]]:
        """Problems no single field shows: blocks for another method, data a method needs or
        cannot use, settings that only one mode reads."""
        for method in METHODS:
            if method != self.method and getattr(self, method) is not None:
                yield (
                    (method,),
                    f"this block configures method {method}, but method is {self.method}: "
                    f"remove it or set method: {method}",
                )
        if self.simulated is not None and self.backend != "simulated":
            yield (("simulated",), "only read with backend: simulated; remove it")
        if self.training.max_steps is not None and (
            self.training.warmup_steps >= self.training.max_steps
        ):
            yield (
                ("training", "warmup_steps"),
                f"must be less than training.max_steps ({self.training.max_steps})",
            )
        if self.method == "sft":
            yield from self._sft_problems()
        elif self.method == "rlvr":
            yield from self._rlvr_problems()
        else:
            yield from self._distillation_problems()

    def _sft_problems(self) -> Iterator[tuple[Path, str]]:
        if self.data.train_file is None:
            yield (("data", "train_file"), "required for sft: a JSONL path or a training-set id")

    def _rlvr_problems(self) -> Iterator[tuple[Path, str]]:
        assert self.rlvr is not None
        if self.data.train_file is not None:
            yield (
                ("data", "train_file"),
                "rlvr takes its problems from rlvr.problems, not data.train_file; remove it",
            )
        if "batch_size" in self.training.model_fields_set and self.training.batch_size is not None:
            yield (
                ("training", "batch_size"),
                "rlvr counts problems per step in rlvr.groups_per_batch; remove it",
            )
        problems = self.rlvr.problems
        if problems.source == "file" and problems.file is None:
            yield (("rlvr", "problems", "file"), "required with source: file")
        if problems.source != "file" and problems.file is not None:
            yield (
                ("rlvr", "problems", "file"),
                f"only read with source: file (not {problems.source})",
            )

    def _distillation_problems(self) -> Iterator[tuple[Path, str]]:
        options = self.distillation
        if options is None:
            yield (("distillation",), "required for method distillation: mode and teacher")
            return
        teacher = options.teacher.strip()
        if options.mode == "off_policy":
            if not ENDPOINT_NAME.match(teacher):
                yield (
                    ("distillation", "teacher"),
                    "off-policy: the name of a model registered in tutor-api (GET /models)",
                )
            if self.data.train_file is not None:
                yield (
                    ("data", "train_file"),
                    "off-policy distillation trains on the set it builds from the teacher; "
                    "to train on an existing set use method: sft",
                )
            for name in _ON_POLICY_ONLY:
                if getattr(options, name) is not None:
                    where = (
                        " (set it in distillation.teacher_set)"
                        if name
                        in (
                            "max_tokens",
                            "temperature",
                        )
                        else ""
                    )
                    yield (("distillation", name), f"only read by on_policy{where}; remove it")
            return
        if options.teacher_set is not None:
            yield (
                ("distillation", "teacher_set"),
                "only read by off_policy (on-policy has no teacher set); remove it",
            )
        if self.data.train_file is None:
            yield (
                ("data", "train_file"),
                "required for on-policy distillation: the prompts the student answers",
            )
        yield from self._on_policy_teacher_problems(teacher)

    def _on_policy_teacher_problems(self, teacher: str) -> Iterator[tuple[Path, str]]:
        if teacher.startswith("tinker://"):
            if "/sampler_weights/" not in teacher:
                yield (
                    ("distillation", "teacher"),
                    "a tinker:// teacher must be a sampler checkpoint "
                    "(tinker://…/sampler_weights/…)",
                )
            return
        try:
            teacher_id = resolve_base_model(teacher, field="distillation.teacher")
        except UnknownBaseModel as exc:
            yield (("distillation", "teacher"), f"on-policy: {exc.reason}")
            return
        student_id = self.resolved_base_model
        if tokenizer_family(teacher_id) != tokenizer_family(student_id):
            yield (
                ("distillation", "teacher"),
                f"on-policy distillation scores the student's tokens under the teacher, so both "
                f"need one tokenizer: {teacher_id} and {student_id} do not share one",
            )


# --- parsing ------------------------------------------------------------------------------------


def _field_names(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Each field of ``model`` and, when it holds a block, that block's class."""
    out: dict[str, type[BaseModel] | None] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        candidates = get_args(annotation) if get_origin(annotation) is not None else (annotation,)
        out[name] = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return out


def _all_paths(model: type[BaseModel], prefix: Path = ()) -> Iterator[Path]:
    for name, block in _field_names(model).items():
        yield (*prefix, name)
        if block is not None:
            yield from _all_paths(block, (*prefix, name))


def _block_at(path: Path) -> type[BaseModel] | None:
    block: type[BaseModel] | None = TrainingConfig
    for part in path:
        if block is None or not isinstance(part, str):
            return None
        block = _field_names(block).get(part)
    return block


def _unknown_field_message(path: Path) -> str:
    name = str(path[-1])
    parent = path[:-1]
    elsewhere = [p for p in _all_paths(TrainingConfig) if p[-1] == name and p != path]
    if elsewhere:
        places = " or ".join(dotted(p) for p in elsewhere)
        return f"unknown field here; {name} belongs at {places}"
    block = _block_at(parent)
    allowed = sorted(_field_names(block)) if block is not None else []
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.75)
    if close:
        return f"unknown field; did you mean {close[0]}?"
    if allowed:
        where = dotted(parent) if parent else "the config"
        return f"unknown field; {where} takes: {', '.join(allowed)}"
    return "unknown field"


def _problem_from_error(source: SourceText, error: Any) -> ConfigProblem:
    path: Path = tuple(p for p in error["loc"] if isinstance(p, str | int))
    kind = error["type"]
    if kind == "extra_forbidden":
        message = _unknown_field_message(path)
    elif kind == "missing":
        message = "required field is missing"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    return source.problem(path, message)


def _misplaced_blocks(data: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """Method blocks that do not match ``method``, read from the raw data, so they are
    reported with the field errors (the model's own check runs only on valid fields)."""
    method = data.get("method", "sft")
    if method not in METHODS:
        return
    for other in METHODS:
        if other != method and data.get(other) is not None:
            yield (
                (other,),
                f"this block configures method {other}, but method is {method}: "
                f"remove it or set method: {other}",
            )


def _sorted(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def parse_config(text: str, *, fmt: ConfigFormat | None = None) -> TrainingConfig:
    """Validate a YAML or JSON config (format guessed from the text when ``fmt`` is None).

    Raises :class:`ConfigError` whose ``problems`` name every unknown or invalid field by its
    dotted path (``training.learning_rate``) with its line in ``text`` where known.
    """
    source = read_source(text, fmt)
    nul = nul_path(source.data)  # PostgreSQL stores no NUL: a YAML "\0" names its field here
    if nul is not None:
        raise ConfigError([source.problem(nul, NUL_MSG)])
    cross: list[tuple[Path, str]] = []
    try:
        config = TrainingConfig.model_validate(source.data, context={"problems": cross})
    except ValidationError as exc:
        problems = [_problem_from_error(source, e) for e in exc.errors(include_url=False)]
        problems += [source.problem(p, m) for p, m in _misplaced_blocks(source.data)]
        raise ConfigError(_sorted(problems)) from None
    if cross:
        raise ConfigError(_sorted([source.problem(path, message) for path, message in cross]))
    return config


__all__ = [
    "METHODS",
    "METHOD_DEFAULTS",
    "ConfigError",
    "ConfigProblem",
    "TrainingConfig",
    "parse_config",
]
