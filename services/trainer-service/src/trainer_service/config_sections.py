"""The blocks of a training config (``model``, ``data``, ``training``, one per method, …).

Every block forbids unknown fields, so a typo is a 422 naming it rather than a setting silently
ignored on a run someone pays for. Numbers accept numeric strings on purpose: PyYAML reads
``1e-4`` (no dot) as the string ``"1e-4"``, and the seed config writes its learning rate that way.
Defaults that depend on the method (learning rate, LoRA rank, schedule, batch size …) are filled
in by :mod:`trainer_service.training_config`; the ones here hold for every method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from tutorlab.contracts.endpoints import CACHE_EPOCH_NAMES, NAME_PATTERN, CacheEpoch

from trainer_service.base_models import UnknownBaseModel, resolve_base_model
from trainer_service.schedule import LrSchedule

#: a data-service training-set id: ``ts_<hex>`` for a built set (the hex of the job that built
#: it, ``data_service.training_sets.training_set_id``) or ``ts_up_<hex>`` for an uploaded one
#: (a content hash, ``data_service.uploaded_sets.uploaded_set_id``)
#: a data-service training-set id, optionally naming the part: ``ts_…:train`` / ``ts_…:eval``
TRAINING_SET_ID = re.compile(r"^(?P<id>ts_(up_)?[0-9a-f]{8,64})(?::(?P<part>train|eval))?$")


def _number(value: Any) -> Any:
    """Numeric strings -> float (YAML's ``1e-4``); booleans are not numbers."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    return value


def _whole_number(value: Any) -> Any:
    """Whole-number strings -> int (``"8"``, ``"1e3"``); booleans and fractions are refused."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {str(value).lower()}")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if not number.is_integer():
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(number)
    return value


Float = Annotated[float, BeforeValidator(_number)]
Int = Annotated[int, BeforeValidator(_whole_number)]


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --- model ------------------------------------------------------------------------------------


class ModelSection(Block):
    #: an Ollama-style name from :mod:`trainer_service.base_models` or a Hugging Face id
    base_model: str
    lora_rank: Int = Field(default=32, ge=1, le=1024)
    #: local tokenizer directory or Hugging Face id; default: the base model's
    tokenizer: str | None = Field(default=None, min_length=1)
    #: start from these weights (a ``tinker://…/weights/…`` path, e.g. an SFT run's final
    #: state) with a fresh optimizer: RL or distillation on top of SFT
    init_from: str | None = Field(
        default=None, pattern=r"^tinker://[^/\s]+/weights/[^\s]+$", max_length=1024
    )

    @field_validator("base_model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        try:
            resolve_base_model(value)
        except UnknownBaseModel as exc:
            raise ValueError(exc.reason) from None
        return value.strip()


# --- data -------------------------------------------------------------------------------------

DataKind = Literal["training_set", "path"]


def data_source_kind(value: str) -> DataKind:
    """Whether a ``data.*_file`` value is a data-service training-set id or a JSONL path."""
    return "training_set" if TRAINING_SET_ID.match(value.strip()) else "path"


@dataclass(frozen=True)
class DataRef:
    """Where a split comes from: ``part`` of training set ``value``, or the file at ``value``."""

    kind: DataKind
    value: str
    part: Literal["train", "eval"]

    @classmethod
    def of(cls, value: str, default_part: Literal["train", "eval"]) -> DataRef:
        """A reference from a config value; a set id's ``:train``/``:eval`` suffix names the
        part, else ``default_part``."""
        match = TRAINING_SET_ID.match(value.strip())
        if match is None:
            return cls("path", value, default_part)
        part = match.group("part") or default_part
        return cls("training_set", match.group("id"), part)  # type: ignore[arg-type]


def _check_data_value(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("give a JSONL path or a training-set id (ts_…), not an empty string")
    looks_like_id = value.startswith("ts_") and "/" not in value and "." not in value
    if looks_like_id and not TRAINING_SET_ID.match(value):
        raise ValueError(
            f"{value!r} looks like a training-set id but is not one "
            "(ts_<hex> or ts_up_<hex>, as GET /training-sets lists them, optionally followed "
            "by :train or :eval)"
        )
    return value


class DataSection(Block):
    #: a JSONL path or a data-service training-set id (``ts_…``)
    train_file: str | None = None
    #: a JSONL path or a training-set id; default: the eval split of ``train_file``'s set
    eval_file: str | None = None

    _values = field_validator("train_file", "eval_file")(_check_data_value)

    def train_ref(self) -> DataRef | None:
        if self.train_file is None:
            return None
        return DataRef.of(self.train_file, "train")

    def eval_ref(self) -> DataRef | None:
        """The eval split: ``eval_file`` when given, else the eval part of the training set
        named by ``train_file`` (built sets carry both), else None."""
        if self.eval_file is not None:
            return DataRef.of(self.eval_file, "eval")
        train = self.train_ref()
        if train is not None and train.kind == "training_set" and ":" not in str(self.train_file):
            return DataRef("training_set", train.value, "eval")
        return None


# --- training ---------------------------------------------------------------------------------


class AdamSection(Block):
    """Adam settings: tinker-cookbook 0.6.1 ``supervised/train.py`` and ``rl/train.py``
    (the SDK's own ``AdamParams`` default eps is 1e-12; the recipes use 1e-8)."""

    beta1: Float = Field(default=0.9, ge=0, lt=1)
    beta2: Float = Field(default=0.95, ge=0, lt=1)
    eps: Float = Field(default=1e-8, gt=0, le=1e-3)


class TrainingSection(Block):
    num_epochs: Int = Field(default=1, ge=1, le=1000)
    #: examples (SFT, off-policy distillation) or prompts (on-policy distillation) per step;
    #: RLVR counts problems per step in ``rlvr.groups_per_batch`` instead (None there)
    batch_size: Int | None = Field(default=None, ge=1, le=65_536)
    learning_rate: Float = Field(default=1e-4, gt=0, lt=1)
    lr_schedule: LrSchedule = "linear"
    warmup_steps: Int = Field(default=0, ge=0)
    #: longest rendered example (tokens); longer ones are truncated
    max_length: Int = Field(default=16_384, ge=64, le=262_144)
    save_every: Int = Field(default=20, ge=1)
    eval_every: Int = Field(default=20, ge=1)
    #: stop after this many steps even if the epochs are not done
    max_steps: Int | None = Field(default=None, ge=1)
    seed: Int = Field(default=0, ge=0)
    #: time-to-live of intermediate checkpoints (the final one never expires); None keeps them
    checkpoint_ttl_s: Int | None = Field(default=7 * 24 * 3600, ge=3600, le=10 * 365 * 24 * 3600)
    adam: AdamSection = Field(default_factory=AdamSection)


# --- one block per method ---------------------------------------------------------------------


class SftOptions(Block):
    """Nothing SFT-specific yet: ``training`` and ``data`` say everything."""


class TeacherSetOptions(Block):
    """Parameters for the data-service's teacher builder (``POST /training-sets/build/teacher``,
    ``data_service.build_jobs.TeacherBuildParams``) except ``teacher``, which comes from
    ``distillation.teacher``. Unset fields take the data-service's defaults; a test keeps these
    names and bounds in step with that schema."""

    dataset: Literal["gsm8k", "math"] | None = None
    modes: list[Literal["solve", "hint"]] | None = Field(default=None, min_length=1)
    max_problems: Int | None = Field(default=None, ge=1, le=20_000)
    temperature: Float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: Int | None = Field(default=None, ge=16, le=32_768)
    concurrency: Int | None = Field(default=None, ge=1, le=256)
    #: the teacher's response-cache round (bump to sample it again)
    cache_epoch: CacheEpoch | None = Field(default=None, validation_alias=CACHE_EPOCH_NAMES)
    source_version: str | None = None
    seed: Int | None = None
    eval_fraction: Float | None = Field(default=None, gt=0.0, lt=0.5)
    dedup_threshold: Float | None = Field(default=None, gt=0.0, le=1.0)
    contamination_ngram: Int | None = Field(default=None, ge=5, le=50)
    drop_contaminated: bool | None = None
    require_references: bool | None = None


DistillationMode = Literal["on_policy", "off_policy"]


class DistillationOptions(Block):
    """Off-policy: a registered teacher endpoint answers, the data-service filters its replies
    into a training set, and the student is fine-tuned on it. On-policy: the student samples,
    a Tinker-sampleable teacher scores the samples, and the student learns from the per-token
    reverse KL. Fields that apply to one mode only are None under the other."""

    mode: DistillationMode
    #: off_policy: a model name registered in tutor-api; on_policy: a Tinker base model
    #: (qwen3:32b, Qwen/Qwen3-32B) or a tinker://…/sampler_weights/… path
    teacher: str = Field(min_length=1)
    samples_per_prompt: Int | None = Field(default=None, ge=1, le=64)
    max_tokens: Int | None = Field(default=None, ge=1, le=32_768)
    temperature: Float | None = Field(default=None, gt=0.0, le=2.0)
    kl_coef: Float | None = Field(default=None, gt=0.0, le=100.0)
    teacher_set: TeacherSetOptions | None = None

    def teacher_build_request(self) -> dict[str, Any]:
        """The body of the data-service's teacher-builder request (off-policy)."""
        options = self.teacher_set or TeacherSetOptions()
        return {"teacher": self.teacher, **options.model_dump(exclude_none=True)}


class ProblemsOptions(Block):
    source: Literal["gsm8k", "math", "file"] = "gsm8k"
    split: str = Field(default="train", pattern=r"^[a-z0-9_]+$")
    #: a JSONL of problems with gold answers (source: file)
    file: str | None = Field(default=None, min_length=1)
    #: a seeded sample of this many problems (default: all)
    limit: Int | None = Field(default=None, ge=1)

    @field_validator("split")
    @classmethod
    def _not_the_benchmark(cls, value: str) -> str:
        if value == "test":
            raise ValueError(
                "the test split is what the benchmark scores; training on it contaminates "
                "every comparison (use train)"
            )
        return value


class RewardWeights(Block):
    """Reward = correct + format x (formatted - 1) for every prompt (tinker-cookbook 0.6.1
    ``math_rl``: 1 for a correct ``\\boxed{}`` answer, -0.1 when the format is missing); hint-mode
    prompts add ``no_reveal`` when the reply does not give the answer away and
    ``asks_question`` when it asks the student something (TutorLab's, not the cookbook's)."""

    correct: Float = Field(default=1.0, ge=0, le=100)
    format: Float = Field(default=0.1, ge=0, le=100)
    no_reveal: Float = Field(default=0.5, ge=0, le=100)
    asks_question: Float = Field(default=0.25, ge=0, le=100)


class RlvrOptions(Block):
    """GRPO-style RL with verifiable rewards: ``group_size`` samples per problem, advantage =
    reward - the group's mean, groups with one reward skipped. Defaults: tinker-cookbook 0.6.1
    ``recipes/math_rl`` (README: GSM8K with group_size 8 x 64 groups; MATH with 512 tokens and
    the importance_sampling loss)."""

    problems: ProblemsOptions = Field(default_factory=ProblemsOptions)
    group_size: Int = Field(default=8, ge=2, le=256)
    groups_per_batch: Int = Field(default=64, ge=1, le=4096)
    max_tokens: Int = Field(default=512, ge=1, le=32_768)
    temperature: Float = Field(default=1.0, gt=0.0, le=2.0)
    loss: Literal["importance_sampling"] = "importance_sampling"
    rewards: RewardWeights = Field(default_factory=RewardWeights)
    #: share of prompts asked in hint mode (tutoring reward) instead of solve mode
    hint_fraction: Float = Field(default=0.0, ge=0.0, le=1.0)


# --- monitoring, backend, pipeline ------------------------------------------------------------


class MonitorOptions(Block):
    """The fixed slice sampled and scored every ``training.eval_every`` steps (monitoring only:
    the benchmark after training is the measurement)."""

    gsm8k_items: Int = Field(default=100, ge=0, le=1319)
    tutoring_items: Int = Field(default=50, ge=0, le=10_000)
    max_tokens: Int = Field(default=512, ge=16, le=32_768)
    #: 0 = greedy, so the curves move only when the weights do
    temperature: Float = Field(default=0.0, ge=0.0, le=2.0)


class SimulatedOptions(Block):
    """Latencies of the in-memory backend (``backend: simulated``), in seconds per request."""

    forward_backward_s: Float = Field(default=0.0, ge=0, le=600)
    optim_step_s: Float = Field(default=0.0, ge=0, le=600)
    sample_s: Float = Field(default=0.0, ge=0, le=600)
    save_s: Float = Field(default=0.0, ge=0, le=600)


class BenchmarkAfter(Block):
    """Benchmark the registered result when training ends (an eval-service job)."""

    suite: str = Field(default="standard", pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    #: the baseline: an eval run id or a results file (eval-service ``compare_to``)
    compare_to: str | None = Field(default=None, min_length=1, max_length=500)


#: a run name: a folder under experiments/<method>/ and part of the registered model's name
RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ENDPOINT_NAME = re.compile(NAME_PATTERN)
