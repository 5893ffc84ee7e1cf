"""The math validation card, re-computed from a small hand-written fixture (numbers by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tutorlab.scoring import SCORER_VERSION
from tutorlab.scoring.validation.math import load_judged, validate
from tutorlab.scoring.validation.sources import SourceUnavailable

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "scorers" / "math"


def test_human_verdicts_are_derived_from_the_step_labels() -> None:
    judged = load_judged("gsm8k", FIXTURE / "dataset" / "gsm8k.json", FIXTURE)
    # g-3 has a wrong step and a right answer: no one judged its answer, so it is left out
    assert [(r.id, r.human) for r in judged] == [
        ("g-1", "correct"),
        ("g-2", "incorrect"),
        ("g-4", "correct"),
        ("g-5", "incorrect"),
    ]
    assert judged[0].gold == "12" and judged[0].reply.endswith("\\boxed{12} apples.")


def test_cards_recomputed_from_the_fixture() -> None:
    cards = {card.scorer: card for card in validate(FIXTURE, mirror=FIXTURE)}
    gsm8k = cards["gsm8k"]
    # g-1, g-4 (by the fallback: "... = 18 dollars") correct/correct; g-2 incorrect/incorrect;
    # g-5 labelled incorrect although its boxed 7 is the gold: the scorer says correct
    assert gsm8k.n == 4
    assert gsm8k.confusion == {
        "correct": {"correct": 2, "incorrect": 0},
        "incorrect": {"correct": 1, "incorrect": 1},
    }
    assert gsm8k.agreement == pytest.approx(0.75)
    # po = 3/4; pe = (2*3 + 2*1) / 16 = 1/2; kappa = (3/4 - 1/2) / (1/2)
    assert gsm8k.kappa == pytest.approx(0.5)
    assert gsm8k.scorer_version == SCORER_VERSION
    assert len(gsm8k.confusions) == 1 and gsm8k.confusions[0].startswith("g-5 ")
    assert gsm8k.notes.startswith("1 of 4 answers came from a fallback rule, 0 replies")
    math = cards["math"]
    # m-1 boxed, m-3 "1/2" for 0.5 by the fallback, m-2 "even" for the text gold "odd"
    assert math.n == 3 and math.agreement == pytest.approx(1.0)
    assert math.kappa == pytest.approx(1.0)
    assert math.confusion["incorrect"] == {"correct": 0, "incorrect": 1}


def test_missing_files_skip_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"dataset/gsm8k\.json"):
        validate(tmp_path, mirror=FIXTURE)
    (tmp_path / "dataset").mkdir()
    for name in ("gsm8k.json", "math.json"):
        (tmp_path / "dataset" / name).write_bytes((FIXTURE / "dataset" / name).read_bytes())
    with pytest.raises(SourceUnavailable, match="TUTORLAB_DATASET_MIRROR"):
        validate(tmp_path, mirror=tmp_path / "no-mirror")


def test_a_problem_missing_from_the_golds_names_the_item(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"item 0 \(g-1\): problem not in gsm8k"):
        load_judged("gsm8k", FIXTURE / "dataset" / "gsm8k.json", tmp_path)
