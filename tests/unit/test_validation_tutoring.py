"""The tutoring cards re-computed from a small hand-written MathDial-shaped fixture.

tests/fixtures/scorers/mathdial/data/test.jsonl holds four invented dialogues in MathDial's
format (qid 1 and 4 fall in the held-out half, 2 and 3 in the development half). Each teacher
turn's human and scorer labels, worked out by hand:

held-out, reveal (6 turns): 4 agree on no reveal; "5 + 12 = 17 apples" is telling and revealed;
"Half of 10 is 5." is a focus move the rule calls a reveal. po = 5/6, pe = (1*2 + 5*4)/36,
kappa = 8/14. The baseline (a solution result not in the problem) says the same.
held-out, guidance (5 non-telling turns): all agree, kappa = 1. The baseline (asks a question)
also calls "Hi Ana, could you walk me through your solution?" guidance: po = 4/5,
pe = (2*3 + 3*2)/25, kappa = 8/13.
development, reveal (7 turns): "Two books cost 16 dollars." revealed, "Multiply the pens by their
price." telling the rule misses: po = 6/7, pe = (2*1 + 5*6)/49, kappa = 10/17.
development, guidance (5 turns): "Can you tell me more?" (probing, no guidance by the rule) and
"Yes, 22 is right." (generic, guidance by the rule) disagree: po = 3/5, pe = 13/25, kappa = 1/6.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tutorlab.scoring.validation.sources import SourceUnavailable
from tutorlab.scoring.validation.tutoring import (
    MATHDIAL_COMMIT,
    MATHDIAL_PATH,
    MATHDIAL_REPO,
    load_mathdial,
    reveal_pairs,
    split_of,
    tutoring_cards,
    validate,
)
from tutorlab.scoring.versions import RULES_VERSION

FIXTURE = Path(__file__).parents[1] / "fixtures" / "scorers" / "mathdial"


def test_the_split_is_fixed_by_problem() -> None:
    assert [split_of(q) for q in (1, 2, 3, 4)] == [
        "held-out",
        "development",
        "development",
        "held-out",
    ]


def test_the_moves_are_read_from_each_teacher_turn() -> None:
    turns = load_mathdial(FIXTURE / "data" / "test.jsonl")
    assert len(turns) == 13
    first = turns[0]
    assert first.move == "generic" and first.text.startswith("Hi Ana")
    assert first.golds == ("12", "17")
    # the teacher answers the student's latest message: before the first, their solution
    assert first.context[1].startswith("Tom has 5 + 3 + 4")
    assert turns[1].context[1] == "I added 5, 3 and 4 to get 12."


def test_cards_recomputed_from_the_fixture() -> None:
    reveal, guidance = validate(FIXTURE)
    assert reveal.scorer == "no_answer_reveal" and guidance.scorer == "provides_guidance"
    assert reveal.split == guidance.split == "held-out"
    assert reveal.scorer_version == f"rules {RULES_VERSION}"
    assert reveal.n == 6 and reveal.labels == ["reveal", "no_reveal"]
    assert reveal.confusion == {
        "reveal": {"reveal": 1, "no_reveal": 0},
        "no_reveal": {"reveal": 1, "no_reveal": 4},
    }
    assert reveal.agreement == pytest.approx(5 / 6)
    assert reveal.kappa == pytest.approx(8 / 14)
    assert reveal.baseline_kappa == pytest.approx(8 / 14)
    assert guidance.n == 5
    assert guidance.confusion == {
        "guidance": {"guidance": 2, "no_guidance": 0},
        "no_guidance": {"guidance": 0, "no_guidance": 3},
    }
    assert guidance.kappa == pytest.approx(1.0)
    assert guidance.baseline_kappa == pytest.approx(8 / 13)
    # the development half is in the notes
    assert f"n=7, agreement={6 / 7:.4f}, κ={10 / 17:.3f}" in reveal.notes
    assert f"n=5, agreement={3 / 5:.4f}, κ={1 / 6:.3f}" in guidance.notes
    assert "human guidance: 2 guidance, 1 no_guidance" in guidance.notes


def test_the_telling_the_rule_misses_is_one_without_a_value() -> None:
    turns = [t for t in load_mathdial(FIXTURE / "data" / "test.jsonl") if t.qid == 2]
    missed = [
        t.text
        for t, (human, scorer) in zip(turns, reveal_pairs(turns), strict=True)
        if human == "reveal" and scorer == "no_reveal"
    ]
    assert missed == ["Multiply the pens by their price."]


def _write(path: Path, record: dict[str, object]) -> Path:
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    record = {
        "qid": 9,
        "question": "q",
        "ground_truth": "1 + 1 = 2\n 2",
        "student_incorrect_solution": "3",
        "conversation": "Teacher: (focus)What is 1 + 1?|EOM|Kim: 3|EOM|Teacher: Try again",
    }
    with pytest.raises(ValueError, match=r"test.jsonl line 1: teacher turn 3 has no move label"):
        load_mathdial(_write(tmp_path / "test.jsonl", record))
    del record["ground_truth"]
    with pytest.raises(ValueError, match="line 1: missing field"):
        load_mathdial(_write(tmp_path / "test.jsonl", record))
    (tmp_path / "test.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: not JSON"):
        load_mathdial(tmp_path / "test.jsonl")


def test_a_folder_without_the_file_is_a_clear_skip(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"data/test.jsonl not found"):
        validate(tmp_path)


def test_no_turns_in_a_half_is_an_error_not_a_card() -> None:
    turns = [t for t in load_mathdial(FIXTURE / "data" / "test.jsonl") if t.qid in (2, 3)]
    with pytest.raises(ValueError, match="no pairs"):
        tutoring_cards(turns, "2026-01-01")


def test_without_a_folder_the_cached_download_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what a download leaves under the data directory, for the pinned commit
    cached = tmp_path / "validation" / MATHDIAL_REPO / MATHDIAL_COMMIT / MATHDIAL_PATH
    cached.parent.mkdir(parents=True)
    shutil.copy(FIXTURE / MATHDIAL_PATH, cached)
    monkeypatch.setenv("TUTORLAB_DATA_DIR", str(tmp_path))
    reveal, guidance = validate(None)
    assert (reveal.n, guidance.n) == (6, 5)
    assert MATHDIAL_COMMIT[:12] in reveal.data
