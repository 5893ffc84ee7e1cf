"""Math verdicts: GSM8K gold solutions, MATH with a pending math-verify check, folding results."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from tutorlab.datasets.records import gsm8k_final_answer
from tutorlab.scoring import (
    RULES_VERSION,
    SCORER_VERSION,
    MathVerdict,
    VerifyResult,
    score_math_response,
    score_math_responses,
)


def test_versions_are_strings() -> None:
    assert isinstance(SCORER_VERSION, str) and SCORER_VERSION
    assert isinstance(RULES_VERSION, str) and RULES_VERSION


def test_gsm8k_gold_solutions_score_numeric_match(dataset_mirror: Path) -> None:
    lines = (dataset_mirror / "gsm8k" / "test.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    assert len(rows) == 1319
    misses = []
    for row in rows:
        gold = gsm8k_final_answer(row["answer"])
        verdict = score_math_response(gold, row["answer"], kind="gsm8k")
        if not (verdict.numeric_match and verdict.correct and verdict.rule == "hash"):
            misses.append((gold, verdict))
    assert misses == []


@pytest.mark.parametrize(
    ("gold", "response", "correct", "numeric", "invalid"),
    [
        ("18", "She pays 6 * 3 = 18 dollars.\n#### 18", True, True, False),
        ("18", "The answer is $18.00.", True, True, False),
        ("18", "<think>The answer is 18.</think>The answer is 20.", False, False, False),
        ("168001", "The answer is 168,000.", False, False, False),
        ("18", "I am not sure.", False, False, True),
        ("18", "The answer is Evelyn.", False, False, True),
        ("1234.5", "So the total is \\boxed{\\$1,234.50}", True, True, False),
    ],
)
def test_gsm8k_verdicts(
    gold: str, response: str, correct: bool, numeric: bool, invalid: bool
) -> None:
    verdict = score_math_response(gold, response, kind="gsm8k")
    assert verdict.correct is correct
    assert verdict.numeric_match is numeric
    assert verdict.invalid is invalid
    assert verdict.needs_verify is False


def test_partial_match_ignores_reasoning() -> None:
    verdict = score_math_response("18", "<think>maybe 18</think>It is 20.", kind="gsm8k")
    assert verdict.partial_match is False
    verdict = score_math_response("18", "18 apples, then 2 more: 20.", kind="gsm8k")
    assert verdict.partial_match is True and verdict.correct is False


def test_math_verdict_pending_then_folded() -> None:
    gold = "\\frac{\\sqrt{3}}{2}"
    verdict = score_math_response(gold, "So $x = \\boxed{\\dfrac{3}{2\\sqrt{3}}}$.", kind="math")
    assert verdict.extracted == "\\dfrac{3}{2\\sqrt{3}}"
    assert verdict.needs_verify is True
    assert verdict.correct is None
    assert verdict.with_verify(VerifyResult(True)).correct is True
    assert verdict.with_verify(VerifyResult(False)).correct is False
    failed = verdict.with_verify(VerifyResult(None, "timeout: math-verify ran over 5s"))
    assert failed.correct is None  # a failed check is not a wrong answer
    assert failed.verify_error == "timeout: math-verify ran over 5s"
    assert failed.needs_verify is False


def test_math_verdict_decided_without_math_verify() -> None:
    exact = score_math_response("\\frac{1}{2}", "\\boxed{\\frac12}", kind="math")
    assert exact.numeric_match and exact.correct is True and not exact.needs_verify
    assert exact.with_verify(VerifyResult(None, "timeout")).correct is True
    missing = score_math_response("\\frac{1}{2}", "<think>\\boxed{1/2}", kind="math")
    assert missing.invalid and missing.correct is False and not missing.needs_verify


def test_verdict_is_a_plain_dict() -> None:
    verdict = score_math_response("18", "The answer is 18.", kind="gsm8k")
    data = dataclasses.asdict(verdict)
    assert json.loads(json.dumps(data)) == data
    assert data["extracted"] == "18" and data["rule"] == "answer_is"
    assert set(data) == {f.name for f in dataclasses.fields(MathVerdict)}


def test_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="kind"):
        score_math_response("1", "1", kind="aime")  # type: ignore[arg-type]


async def test_score_math_responses_without_verifier_leaves_pending() -> None:
    verdicts = await score_math_responses(
        [("\\frac{1}{2}", "\\boxed{0.5}"), ("\\sqrt{2}", "\\boxed{2^{1/2}}")],
        kind="math",
        verifier=None,
    )
    assert [v.correct for v in verdicts] == [True, None]
    assert [v.needs_verify for v in verdicts] == [False, True]
