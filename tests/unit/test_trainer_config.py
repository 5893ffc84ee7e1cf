"""Training configs: the seed's config as written, every problem named by field and line,
method blocks and their defaults, data references, and the base-model table."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import get_args

import pytest
import yaml
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from trainer_service.base_models import (
    BASE_MODELS,
    UnknownBaseModel,
    entry_for,
    resolve_base_model,
)
from trainer_service.config_sections import DataRef, TeacherSetOptions, data_source_kind
from trainer_service.training_config import (
    METHOD_DEFAULTS,
    ConfigError,
    TrainingConfig,
    parse_config,
)

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
SET_ID = "ts_" + "0123456789abcdef01234567"

SEED = """\
backend: tinker
model:
  base_model: qwen3:8b
data:
  train_file: data/socratic_train.jsonl
  eval_file: data/socratic_eval.jsonl
training:
  num_epochs: 3
  batch_size: 8
  learning_rate: 1e-4
"""


def problems_of(text: str, fmt: str | None = None) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, fmt=fmt)  # type: ignore[arg-type]
    assert caught.value.problems, "a ConfigError must carry its problems"
    return [(p.field, p.line, p.message) for p in caught.value.problems]


def fields_and_lines(text: str) -> set[tuple[str, int | None]]:
    return {(field, line) for field, line, _ in problems_of(text)}


def config(text: str) -> TrainingConfig:
    return parse_config(textwrap.dedent(text))


# --- the seed's config ----------------------------------------------------------------------


def test_the_seed_config_works_as_written() -> None:
    cfg = parse_config(SEED)
    assert cfg.backend == "tinker"
    assert cfg.method == "sft"
    assert cfg.resolved_base_model == "Qwen/Qwen3-8B"
    assert cfg.training.num_epochs == 3
    assert cfg.training.batch_size == 8
    assert cfg.training.learning_rate == pytest.approx(1e-4)
    assert isinstance(cfg.training.learning_rate, float)
    assert cfg.data.train_ref() == DataRef("path", "data/socratic_train.jsonl", "train")
    assert cfg.data.eval_ref() == DataRef("path", "data/socratic_eval.jsonl", "eval")
    # what the seed leaves out takes the SFT recipe's defaults
    assert cfg.model.lora_rank == 32
    assert cfg.training.lr_schedule == "linear"
    assert cfg.step_batch_size == 8


def test_pyyaml_reads_1e_4_as_a_string_so_numbers_accept_numeric_strings() -> None:
    # the reason for the numeric-string coercion: YAML 1.1 needs a dot for a float
    assert yaml.safe_load("x: 1e-4")["x"] == "1e-4"
    cfg = config(
        """\
        model: {base_model: qwen3:8b}
        data: {train_file: a.jsonl}
        training: {learning_rate: "2e-5", batch_size: "16", num_epochs: "1e0", warmup_steps: 3}
        max_cost_usd: "12.5"
        """
    )
    assert cfg.training.learning_rate == pytest.approx(2e-5)
    assert cfg.training.batch_size == 16
    assert cfg.training.num_epochs == 1
    assert cfg.max_cost_usd == pytest.approx(12.5)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("learning_rate: fast", "expected a number, got 'fast'"),
        ("learning_rate: yes", "expected a number, got true"),
        ("learning_rate: .nan", "finite number"),
        ("learning_rate: 2", "less than 1"),
        ("batch_size: 8.5", "fractional part"),
        ("batch_size: '8.5'", "expected a whole number, got '8.5'"),
        ("batch_size: true", "expected a whole number, got true"),
        ("batch_size: 0", "greater than or equal to 1"),
    ],
)
def test_bad_numbers_are_named_with_their_line(line: str, expected: str) -> None:
    text = f"model: {{base_model: qwen3:8b}}\ndata: {{train_file: a.jsonl}}\ntraining:\n  {line}\n"
    [(field, lineno, message)] = problems_of(text)
    assert field == "training." + line.split(":")[0]
    assert lineno == 4
    assert expected in message


# --- every problem names its field and line ----------------------------------------------------


def test_every_problem_names_its_field_and_line() -> None:
    text = """\
method: sft
name: bad name
model:
  base_model: qwen3:9b
  lora_rank: 0
data:
  train_file: a.jsonl
training:
  learning_rat: 1e-4
  lr_schedule: exponential
rlvr:
  group_size: 8
monitor:
  gsm8k_items: 5000
max_cost_usd: -1
"""
    found = problems_of(text)
    assert {(f, line) for f, line, _ in found} == {
        ("name", 2),
        ("model.base_model", 4),
        ("model.lora_rank", 5),
        ("training.learning_rat", 9),
        ("training.lr_schedule", 10),
        ("rlvr", 11),
        ("monitor.gsm8k_items", 14),
        ("max_cost_usd", 15),
    }
    lines = [line or 0 for _, line, _ in found]
    assert lines == sorted(lines)
    by_field = {f: m for f, _, m in found}
    assert (
        "known names:" in by_field["model.base_model"]
        and "qwen3:8b" in by_field["model.base_model"]
    )
    assert "did you mean learning_rate?" in by_field["training.learning_rat"]
    assert "'constant', 'linear' or 'cosine'" in by_field["training.lr_schedule"]
    assert "method is sft" in by_field["rlvr"]


def test_unknown_fields_get_a_hint_where_they_belong() -> None:
    text = """\
model:
  base_model: qwen3:8b
lora_rank: 64
data:
  train_file: a.jsonl
  train: b.jsonl
training:
  adam: {beta1: 0.9, momentum: 0.1}
"""
    found = {f: (line, m) for f, line, m in problems_of(text)}
    assert found["lora_rank"][0] == 3
    assert "model.lora_rank" in found["lora_rank"][1]
    assert found["data.train"][0] == 6
    assert "train_file" in found["data.train"][1] and "eval_file" in found["data.train"][1]
    assert found["training.adam.momentum"][0] == 8
    assert "beta1" in found["training.adam.momentum"][1]


def test_a_missing_required_field_points_at_its_block() -> None:
    found = problems_of("data:\n  train_file: a.jsonl\nmodel:\n  lora_rank: 8\n")
    assert found == [("model.base_model", 3, "required field is missing")]
    assert problems_of("data: {train_file: a.jsonl}\n") == [
        ("model.base_model", None, "required field is missing")
    ]


def test_yaml_syntax_errors_and_odd_documents_are_problems_with_lines() -> None:
    [(field, line, message)] = problems_of("model:\n  base_model: qwen3:8b\ntraining: [1, 2\n")
    assert field == "config" and line == 4 and message.startswith("invalid YAML")
    [(field, line, message)] = problems_of("model:\n  base_model: 'unterminated\n")
    assert field == "config" and line is not None and "invalid YAML" in message
    assert problems_of("") == [("config", None, "the config is empty")]
    [(field, line, message)] = problems_of("- a\n- b\n")
    assert field == "config" and "mapping" in message
    [(field, line, message)] = problems_of("a: 1\n---\nb: 2\n")
    assert field == "config" and line == 2 and "single document" in message


def test_a_key_given_twice_is_refused_at_its_second_line() -> None:
    text = "model:\n  base_model: qwen3:8b\ntraining:\n  batch_size: 8\n  batch_size: 16\n"
    assert problems_of(text) == [
        ("training.batch_size", 5, "given twice (first on line 4); keep one")
    ]


def test_json_configs_are_validated_with_lines() -> None:
    good = '{"model": {"base_model": "Qwen/Qwen3-8B"}, "data": {"train_file": "a.jsonl"}}'
    assert parse_config(good).resolved_base_model == "Qwen/Qwen3-8B"
    bad = (
        '{\n  "model": {"base_model": "qwen3:8b"},\n  "data": {"train_file": "a.jsonl"},\n'
        '  "training": {"batch_size": -4}\n}'
    )
    assert [(f, line) for f, line, _ in problems_of(bad, "json")] == [("training.batch_size", 4)]
    tabbed = '{\n\t"model": {"base_model": "qwen3:8b"},\n\t"bogus": 1\n}'
    assert [(f, line) for f, line, _ in problems_of(tabbed)] == [("bogus", 3)]
    twice = '{"model": {"base_model": "qwen3:8b"},\n "model": {"base_model": "qwen3:4b"}}'
    assert [(f, line) for f, line, _ in problems_of(twice)] == [("model", 2)]
    [(field, line, message)] = problems_of('{\n  "model": {"base_model": "qwen3:8b"},\n}', "json")
    assert field == "config" and line == 3 and message.startswith("invalid JSON")


def test_config_error_detail_is_the_services_422_shape() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("model:\n  base_model: qwen3:8b\nbogus: 1\n")
    assert caught.value.detail() == [
        {
            "field": "bogus",
            "msg": caught.value.problems[0].message,
            "line": 3,
            "type": "config",
        }
    ]
    assert str(caught.value).startswith("bogus (line 3): unknown field")


def test_direct_validation_names_the_field_first() -> None:
    # outside parse_config (e.g. a stored config re-read) the cross-field check still refuses,
    # with the field first, as the services' error handler expects
    with pytest.raises(ValidationError, match=r"data\.train_file: required for sft"):
        TrainingConfig.model_validate({"model": {"base_model": "qwen3:8b"}})


# --- method blocks ----------------------------------------------------------------------------


def test_method_defaults_follow_the_recipes() -> None:
    sft = config("model: {base_model: qwen3:8b}\ndata: {train_file: a.jsonl}\n")
    assert (sft.training.learning_rate, sft.model.lora_rank, sft.training.batch_size) == (
        1e-4,
        32,
        128,
    )
    rl = config("method: rlvr\nmodel: {base_model: qwen3:8b}\n")
    assert rl.rlvr is not None
    assert (rl.rlvr.group_size, rl.rlvr.groups_per_batch, rl.rlvr.max_tokens) == (8, 64, 512)
    assert (rl.training.learning_rate, rl.training.lr_schedule) == (8e-5, "constant")
    assert rl.training.batch_size is None and rl.step_batch_size == 64
    assert rl.rlvr.rewards.format == 0.1 and rl.rlvr.loss == "importance_sampling"
    # an explicit value beats the method default
    mine = config("method: rlvr\nmodel: {base_model: qwen3:8b, lora_rank: 8}\n")
    assert mine.model.lora_rank == 8
    assert set(METHOD_DEFAULTS) == {
        "sft",
        "rlvr",
        "distillation.on_policy",
        "distillation.off_policy",
    }


def test_on_policy_distillation_defaults_and_teacher() -> None:
    cfg = config(
        f"""\
        method: distillation
        model: {{base_model: qwen3:8b}}
        data: {{train_file: {SET_ID}}}
        distillation: {{mode: on_policy, teacher: qwen3:32b}}
        """
    )
    options = cfg.distillation
    assert options is not None
    assert (options.samples_per_prompt, options.kl_coef, options.temperature) == (4, 1.0, 1.0)
    assert (cfg.model.lora_rank, cfg.training.learning_rate) == (128, 1e-4)
    assert cfg.training.lr_schedule == "constant"
    assert cfg.resolved_teacher == "Qwen/Qwen3-32B"
    assert cfg.data.eval_ref() == DataRef("training_set", SET_ID, "eval")
    sampler = "tinker://abc-123:train:0/sampler_weights/final"
    cfg2 = config(
        f"""\
        method: distillation
        model: {{base_model: qwen3:8b}}
        data: {{train_file: a.jsonl}}
        distillation: {{mode: on_policy, teacher: "{sampler}"}}
        """
    )
    assert cfg2.resolved_teacher == sampler


def test_on_policy_distillation_problems() -> None:
    text = """\
method: distillation
model: {base_model: qwen3:8b}
distillation:
  mode: on_policy
  teacher: llama3.1:8b
  teacher_set: {dataset: gsm8k}
"""
    found = {f: m for f, _, m in problems_of(text)}
    assert "prompts the student answers" in found["data.train_file"]
    assert "only read by off_policy" in found["distillation.teacher_set"]
    assert "tokenizer" in found["distillation.teacher"]
    unknown = text.replace("llama3.1:8b", "qwen9:1b").replace(
        "  teacher_set: {dataset: gsm8k}\n", ""
    )
    found = {f: m for f, _, m in problems_of(unknown + "data: {train_file: a.jsonl}\n")}
    assert "known names" in found["distillation.teacher"]
    weights = unknown.replace("qwen9:1b", '"tinker://abc:train:0/weights/final"')
    found = {f: m for f, _, m in problems_of(weights + "data: {train_file: a.jsonl}\n")}
    assert "sampler_weights" in found["distillation.teacher"]


def test_off_policy_distillation_builds_its_set_from_a_registered_teacher() -> None:
    cfg = config(
        """\
        method: distillation
        model: {base_model: qwen3:8b}
        distillation:
          mode: off_policy
          teacher: qwen3-32b-teacher
          teacher_set: {dataset: math, max_problems: "500", modes: [solve]}
        """
    )
    options = cfg.distillation
    assert options is not None
    assert options.samples_per_prompt is None and options.kl_coef is None
    assert (cfg.training.learning_rate, cfg.model.lora_rank) == (1e-3, 128)
    assert options.teacher_build_request() == {
        "teacher": "qwen3-32b-teacher",
        "dataset": "math",
        "modes": ["solve"],
        "max_problems": 500,
    }
    assert cfg.resolved_teacher == "qwen3-32b-teacher"


def test_off_policy_distillation_problems() -> None:
    text = """\
method: distillation
model: {base_model: qwen3:8b}
data: {train_file: a.jsonl}
distillation:
  mode: off_policy
  teacher: "not a name!"
  samples_per_prompt: 4
  temperature: 0.7
"""
    found = {f: (line, m) for f, line, m in problems_of(text)}
    assert found["data.train_file"][0] == 3 and "method: sft" in found["data.train_file"][1]
    assert found["distillation.teacher"][0] == 6
    assert found["distillation.samples_per_prompt"][0] == 7
    assert "teacher_set" in found["distillation.temperature"][1]
    missing = problems_of("method: distillation\nmodel: {base_model: qwen3:8b}\n")
    assert missing == [("distillation", None, "required for method distillation: mode and teacher")]
    no_mode = problems_of(
        "method: distillation\nmodel: {base_model: qwen3:8b}\ndistillation: {teacher: x}\n"
    )
    assert [(f, line) for f, line, _ in no_mode] == [("distillation.mode", 3)]


def bounds(info: FieldInfo) -> set[str]:
    """A field's constraints, those of a shared annotated type inside ``X | None`` included
    (``CacheEpoch | None``)."""
    found = {repr(m) for m in info.metadata}
    for arg in get_args(info.annotation):
        for meta in getattr(arg, "__metadata__", ()):
            if isinstance(meta, FieldInfo):
                found |= {repr(m) for m in meta.metadata}
    return found


def test_teacher_set_mirrors_the_data_service_builder() -> None:
    # the trainer does not import data-service; this keeps the copied schema honest
    from data_service.build_jobs import TeacherBuildParams

    theirs = TeacherBuildParams.model_fields
    ours = TeacherSetOptions.model_fields
    assert set(ours) == set(theirs) - {"teacher"}
    for name, info in ours.items():
        assert bounds(info) == bounds(theirs[name]), name
    full = TeacherSetOptions(
        dataset="math",
        modes=["hint"],
        max_problems=20_000,
        temperature=2.0,
        max_tokens=16,
        concurrency=256,
        cache_epoch=1,
        source_version="v1",
        seed=3,
        eval_fraction=0.2,
        dedup_threshold=1.0,
        contamination_ngram=50,
        drop_contaminated=False,
        require_references=False,
    )
    TeacherBuildParams.model_validate({"teacher": "t", **full.model_dump(exclude_none=True)})
    # a config written when the cache round was called ``epoch`` means the same round
    assert TeacherSetOptions.model_validate({"epoch": 2}).cache_epoch == 2
    assert TeacherSetOptions.model_validate({"cache_epoch": 2}).cache_epoch == 2
    with pytest.raises(ValidationError):
        TeacherSetOptions.model_validate({"cache_epoch": -1})


def test_rlvr_problems() -> None:
    text = """\
method: rlvr
model: {base_model: qwen3:8b}
data: {train_file: a.jsonl}
training: {batch_size: 32}
rlvr:
  problems: {source: file, split: test}
  group_size: 1
  temperature: 0
"""
    found = {f: (line, m) for f, line, m in problems_of(text)}
    assert (
        found["rlvr.problems.split"][0] == 6 and "contaminates" in found["rlvr.problems.split"][1]
    )
    assert found["rlvr.group_size"][0] == 7
    assert found["rlvr.temperature"][0] == 8
    cross = text.replace("split: test", "split: train").replace(
        "  group_size: 1\n  temperature: 0\n", ""
    )
    found = {f: (line, m) for f, line, m in problems_of(cross)}
    assert "rlvr.problems" in found["data.train_file"][1]
    assert "groups_per_batch" in found["training.batch_size"][1]
    assert found["rlvr.problems.file"][1] == "required with source: file"
    stray = (
        "method: rlvr\nmodel: {base_model: qwen3:8b}\n"
        "rlvr:\n  problems: {source: gsm8k, file: p.jsonl}\n"
    )
    assert [(f, line) for f, line, _ in problems_of(stray)] == [("rlvr.problems.file", 4)]


def test_backend_simulated_block_and_cross_checks() -> None:
    base = "model: {base_model: qwen3:8b}\ndata: {train_file: a.jsonl}\n"
    sim = config(
        base + "backend: simulated\nsimulated: {forward_backward_s: 0.05, sample_s: '0.1'}\n"
    )
    assert sim.simulated is not None and sim.simulated.sample_s == pytest.approx(0.1)
    assert problems_of(base + "simulated: {sample_s: 1}\n") == [
        ("simulated", 3, "only read with backend: simulated; remove it")
    ]
    assert problems_of(base + "backend: cloud\n")[0][:2] == ("backend", 3)
    warm = problems_of(base + "training: {max_steps: 10, warmup_steps: 10}\n")
    assert warm == [("training.warmup_steps", 3, "must be less than training.max_steps (10)")]
    assert problems_of(base + "training: {eval_every: 0}\n")[0][:2] == ("training.eval_every", 3)
    after = config(base + "benchmark_after: {compare_to: run_123}\n").benchmark_after
    assert after is not None and after.suite == "standard" and after.compare_to == "run_123"


# --- data references --------------------------------------------------------------------------


def test_data_is_a_path_or_a_training_set_id() -> None:
    assert data_source_kind(SET_ID) == "training_set"
    assert data_source_kind("data/socratic_train.jsonl") == "path"
    assert data_source_kind("ts_notes.jsonl") == "path"
    cfg = config(f"model: {{base_model: qwen3:8b}}\ndata: {{train_file: {SET_ID}}}\n")
    assert cfg.data.train_ref() == DataRef("training_set", SET_ID, "train")
    assert cfg.data.eval_ref() == DataRef("training_set", SET_ID, "eval")
    assert problems_of("model: {base_model: qwen3:8b}\ndata:\n  train_file: ts_XYZ\n") == [
        (
            "data.train_file",
            3,
            "'ts_XYZ' looks like a training-set id but is not one "
            "(ts_<hex> or ts_up_<hex>, as GET /training-sets lists them, optionally followed "
            "by :train or :eval)",
        )
    ]
    # a suffix names the part: an uploaded file is all train, so as eval data it is ':train'
    data = f"{{train_file: {SET_ID}, eval_file: '{SET_ID}:train'}}"
    cfg = config(f"model: {{base_model: qwen3:8b}}\ndata: {data}\n")
    assert cfg.data.eval_ref() == DataRef("training_set", SET_ID, "train")


def test_training_set_ids_match_what_the_data_service_gives() -> None:
    from data_service.training_sets import training_set_id
    from tutorlab.jobs.store import new_job_id

    assert data_source_kind(training_set_id(new_job_id("dat"))) == "training_set"
    # an uploaded set's id is a content hash: ts_up_ + 24 hex
    assert data_source_kind("ts_up_" + "ab" * 12) == "training_set"


# --- shipped configs and the normalised dump ----------------------------------------------------


@pytest.mark.parametrize("name", ["sft", "distillation", "rlvr"])
def test_shipped_configs_are_valid_documented_and_use_tinker(name: str) -> None:
    text = (CONFIGS / f"{name}.yaml").read_text()
    cfg = parse_config(text)
    assert cfg.method == name
    assert cfg.backend == "tinker"
    assert "backend: simulated" in text  # says how to run without a key
    assert "tinker-cookbook 0.6.1" in text  # says where its defaults come from
    assert cfg.resolved_base_model == "Qwen/Qwen3-8B"


@pytest.mark.parametrize("name", ["sft", "distillation", "rlvr"])
def test_to_yaml_round_trips(name: str) -> None:
    cfg = parse_config((CONFIGS / f"{name}.yaml").read_text())
    dumped = cfg.to_yaml()
    assert "# base model: Qwen/Qwen3-8B" in dumped
    assert parse_config(dumped) == cfg
    seed = parse_config(SEED)
    again = parse_config(seed.to_yaml())
    assert again == seed and "lora_rank: 32" in seed.to_yaml()


# --- base models ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hf_id"),
    [
        ("qwen3:8b", "Qwen/Qwen3-8B"),
        ("Qwen3:8B", "Qwen/Qwen3-8B"),
        ("qwen3", "Qwen/Qwen3-8B"),
        ("qwen3:latest", "Qwen/Qwen3-8B"),
        (" qwen3:32b ", "Qwen/Qwen3-32B"),
        ("qwen3:30b-a3b", "Qwen/Qwen3-30B-A3B"),
        ("qwen3:4b", "Qwen/Qwen3-4B-Instruct-2507"),
        ("llama3.1:8b", "meta-llama/Llama-3.1-8B-Instruct"),
        ("llama3.2:3b", "meta-llama/Llama-3.2-3B"),
        ("Qwen/Qwen3-8B", "Qwen/Qwen3-8B"),
        ("someorg/Some-Model-7B", "someorg/Some-Model-7B"),
    ],
)
def test_base_model_names_resolve(name: str, hf_id: str) -> None:
    assert resolve_base_model(name) == hf_id


def test_unknown_base_models_name_the_field_and_the_known_names() -> None:
    with pytest.raises(UnknownBaseModel) as caught:
        resolve_base_model("qwen3:9b", field="distillation.teacher")
    assert caught.value.field == "distillation.teacher"
    assert str(caught.value).startswith("distillation.teacher: unknown model 'qwen3:9b'")
    for short in BASE_MODELS:
        assert short in caught.value.reason
    for bad, reason in [
        ("tinker://abc/weights/final", "checkpoint path"),
        ("a/b/c", "not a Hugging Face id"),
        ("  ", "must name a base model"),
    ]:
        with pytest.raises(UnknownBaseModel, match=reason):
            resolve_base_model(bad)


def test_base_model_table_says_when_ollama_serves_another_checkpoint() -> None:
    assert entry_for("qwen3:8b") is not None and entry_for("qwen3:8b").same_as_ollama  # type: ignore[union-attr]
    for entry in BASE_MODELS.values():
        assert entry.short_name == entry.short_name.lower()
        if not entry.same_as_ollama:
            assert entry.note, f"{entry.short_name}: say how Tinker's checkpoint differs"
    assert entry_for("meta-llama/Llama-3.2-3B") == BASE_MODELS["llama3.2:3b"]
    assert entry_for("unknown:1b") is None
