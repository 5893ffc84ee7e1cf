"""RLVR and on-policy distillation through the whole training job, on the simulated backend
that really learns: RLVR on top of an SFT warm start raises the verifiable reward, and on-policy
distillation brings the student closer to its teacher (the per-token reverse KL falls)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest
from trainer_service.app import create_app
from tutorlab.scoring import verdicts
from tutorlab.scoring.verdicts import MathVerdict

from tests.integration.trainer_support import (
    post_config,
    run_trainer_worker,
    served_tutor_api,
    trainer_settings,
    write_jsonl,
)
from tests.support import app_client, migrate, unique

pytestmark = pytest.mark.integration

QUESTIONS = ["What is 2 + 2?", "What is 1 + 3?", "What is 3 + 1?", "What is 0 + 4?"]
#: a warm start that boxes the right answer half the time and a wrong one otherwise
WARM_START = [
    {
        "prompt": f"Student: {q}\nMode: solve",
        "response": f"\\boxed{{{answer}}}",
        "grade": "2",
        "topic_tags": ["arithmetic.addition"],
    }
    for q in QUESTIONS
    for answer in (4, 5)
]
PROBLEMS = [{"question": q, "answer": "4", "grade": 2} for q in QUESTIONS]
#: with a problem whose every reply the rules raise on (``scorer_raising_on_13``)
FAULTY_PROBLEMS = [*PROBLEMS, {"question": "What is 6 + 7?", "answer": "13", "grade": 2}]

WARM_CONFIG = """\
name: {name}
backend: simulated
model: {{base_model: qwen3:8b}}
data: {{train_file: data/warm.jsonl}}
training: {{num_epochs: 8, batch_size: 8, learning_rate: 1e-3, lr_schedule: constant,
           save_every: 4, eval_every: 100, max_length: 256}}
monitor: {{gsm8k_items: 0, tutoring_items: 0}}
"""

RLVR_CONFIG = """\
name: {name}
method: rlvr
backend: simulated
model: {{base_model: qwen3:8b, init_from: "{init}"}}
rlvr:
  problems: {{source: file, file: data/problems.jsonl}}
  group_size: 8
  groups_per_batch: 4
  max_tokens: 12
  temperature: 1.0
training: {{num_epochs: 12, learning_rate: 1e-4, lr_schedule: constant, eval_every: 100,
           save_every: 100}}
monitor: {{gsm8k_items: 0, tutoring_items: 0}}
"""

DISTILL_CONFIG = """\
name: {name}
method: distillation
backend: simulated
model: {{base_model: qwen3:8b, init_from: "{init}"}}
data: {{train_file: data/warm.jsonl}}
distillation:
  mode: on_policy
  teacher: "{teacher}"
  samples_per_prompt: 4
  max_tokens: 8
training: {{num_epochs: 8, batch_size: 8, learning_rate: 1e-4, eval_every: 100,
           save_every: 100}}
monitor: {{gsm8k_items: 0, tutoring_items: 0}}
"""


FAULTY_CONFIG = """\
name: {name}
method: rlvr
backend: simulated
model: {{base_model: qwen3:8b}}
rlvr:
  problems: {{source: file, file: data/faulty.jsonl}}
  group_size: 4
  groups_per_batch: 5
  max_tokens: 8
training: {{num_epochs: 2, learning_rate: 1e-4, eval_every: 100, save_every: 100}}
monitor: {{gsm8k_items: 0, tutoring_items: 0}}
"""


@pytest.fixture
def scorer_raising_on_13(monkeypatch: pytest.MonkeyPatch) -> None:
    """The math rules raise on every reply to a problem whose answer is 13 (a scorer bug)."""
    real = verdicts.score_math_response

    def score(gold: str, response: str, **options: Any) -> MathVerdict:
        if gold == "13":
            raise RuntimeError("rule exploded")
        return real(gold, response, **options)

    monkeypatch.setattr(verdicts, "score_math_response", score)


@pytest.fixture
async def stack(tmp_path: Path, redis_url: str, qwen3_tokenizer_dir: Path) -> Any:
    tutor_db = f"sqlite+aiosqlite:///{tmp_path / 'tutor.db'}"
    trainer_db = f"sqlite+aiosqlite:///{tmp_path / 'trainer.db'}"
    await migrate("tutor-api", tutor_db)
    await migrate("trainer-service", trainer_db)
    data_dir = tmp_path / "var"
    write_jsonl(data_dir / "data/warm.jsonl", WARM_START)
    write_jsonl(data_dir / "data/problems.jsonl", PROBLEMS)
    write_jsonl(data_dir / "data/faulty.jsonl", FAULTY_PROBLEMS)
    with served_tutor_api(tmp_path, tutor_db) as tutor_url:
        settings = trainer_settings(
            trainer_db,
            redis_url,
            data_dir,
            qwen3_tokenizer_dir,
            tutor_api_url=tutor_url,
            tinker_openai_base_url="http://127.0.0.1:9/v1",
        )
        async with app_client(create_app(settings)) as client:
            yield settings, client


async def train(settings: Any, client: Any, text: str) -> dict[str, Any]:
    submitted = await post_config(client, text)
    assert submitted.status_code == 202, submitted.text
    await run_trainer_worker(settings)
    run = (await client.get(f"/trainings/{submitted.json()['id']}")).json()
    assert run["job"]["status"] == "succeeded", run["job"]
    run["metrics"] = (await client.get(f"/trainings/{run['id']}/metrics")).json()
    return run


def state_at(run: dict[str, Any], step: int) -> str:
    return next(c["path"] for c in run["checkpoints"] if c["kind"] == "state" and c["step"] == step)


async def test_rlvr_on_top_of_sft_raises_the_verifiable_reward(stack: Any) -> None:
    settings, client = stack
    warm = await train(settings, client, WARM_CONFIG.format(name=unique("warm")))
    rl = await train(
        settings, client, RLVR_CONFIG.format(name=unique("rlvr"), init=state_at(warm, 8))
    )
    rewards = [m["reward/mean"] for m in rl["metrics"]]
    assert len(rewards) == 12
    assert fmean(rewards[-3:]) > fmean(rewards[:3]) + 0.2, rewards
    accuracy = [m["reward/accuracy"] for m in rl["metrics"]]
    assert fmean(accuracy[-3:]) > fmean(accuracy[:3]), accuracy
    for m in rl["metrics"]:
        assert m["groups/total"] == 4
        assert 0 <= m["groups/skipped_constant_reward"] <= 4
        assert m["tokens/sampled"] > 0 and m["tokens/prefill"] > 0
        # a step whose groups all had one reward trains nothing
        assert (m["train/datums"] == 0) == (m["groups/skipped_constant_reward"] == 4)
    summary = json.loads((Path(rl["experiment"]) / "experiment.json").read_text())
    assert summary["data"]["train"]["count"] == 4


async def test_on_policy_distillation_brings_the_student_to_its_teacher(stack: Any) -> None:
    settings, client = stack
    teacher = await train(settings, client, WARM_CONFIG.format(name=unique("teacher")))
    sampler = next(c["path"] for c in teacher["checkpoints"] if c["kind"] == "sampler")
    run = await train(
        settings,
        client,
        DISTILL_CONFIG.format(name=unique("distill"), init=state_at(teacher, 4), teacher=sampler),
    )
    kl = [m["distill/kl_to_teacher"] for m in run["metrics"]]
    assert len(kl) == 8
    assert fmean(kl[-2:]) < fmean(kl[:2]), kl
    assert all(m["tokens/prefill"] > m["tokens/sampled"] > 0 for m in run["metrics"])


async def test_an_rlvr_step_goes_on_when_a_groups_scoring_raises(
    stack: Any, scorer_raising_on_13: None
) -> None:
    """Every reply to one problem breaks the scorer: that group is skipped for that reason, its
    samples are counted as errors with their cause (not as wrong answers), and the run trains."""
    settings, client = stack
    run = await train(settings, client, FAULTY_CONFIG.format(name=unique("faulty")))
    assert len(run["metrics"]) == 2
    for m in run["metrics"]:
        assert m["groups/total"] == 5
        assert m["groups/skipped_scoring_failed"] == 1
        assert m["groups/skipped_constant_reward"] <= 4
        assert m["reward/errors"] == 4
        assert m["reward/error_causes"] == {"scoring failed: RuntimeError: rule exploded": 4}
        # the four scored groups' sixteen replies make the mean and the rates
        assert m["reward/mean"] is not None and -0.1 <= m["reward/mean"] <= 1.0
        assert m["reward/accuracy"] is not None
