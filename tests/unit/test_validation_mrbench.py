"""The MRBench cards re-computed from a small hand-written MRBench-shaped fixture.

tests/fixtures/scorers/mrbench/MRBench/MRBench_V2.json holds three invented dialogues in
MRBench's format: the berries problem (development half), the pens problem (held-out) and a
Bridge exchange with no reference answer (held-out by its conversation_id). Each reply's human
and scorer labels, worked out by hand:

held-out, reveal (the 5 pens replies; Bridge left out): "5 x 3 = 15 dollars" is a correct reveal
and revealed; the others are no reveal and not revealed: kappa = 1. The baseline (the gold as a
number in the reply, not in the problem) also calls "are 5 pens 8 dollars or 15 dollars?" a
reveal: po = 4/5, pe = (1*2 + 4*3)/25, kappa = 6/11.
held-out, reveals incorrect: "Great job!" is labelled a wrong reveal, the rule sees no value:
po = 4/5, pe = 20/25, kappa = 0.
held-out, guidance (7 replies, Bridge's too): the revealing reply ("To some extent" guidance)
loses its guidance to the reveal, "Pens cost 3 dollars each. Can you tell me more?" (human no)
is targeted by the rule: po = 5/7, pe = (4*4 + 3*3)/49, kappa = 5/12; the baseline (asks a
question) happens to say the same.
development, reveal (3 berries replies): "the total should be 1200 berries, not 1500" reveals
although the student wrote 1200 (concluded), "Yes, 1500 is the correct answer." reveals a wrong
answer: both cards kappa = 1. Guidance: the revealing reply loses its guidance, the wrong reveal
is targeted: po = 1/3, pe = 5/9, kappa = -1/2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tutorlab.scoring.validation.mrbench import (
    MRBENCH_COMMIT,
    MRBENCH_PATH,
    MRBENCH_REPO,
    load_mrbench,
    mrbench_cards,
    validate,
)
from tutorlab.scoring.validation.sources import SourceUnavailable
from tutorlab.scoring.versions import RULES_VERSION

FIXTURE = Path(__file__).parents[1] / "fixtures" / "scorers" / "mrbench"


def test_replies_carry_the_problem_the_students_latest_turn_and_the_final_answer() -> None:
    replies = load_mrbench(FIXTURE / MRBENCH_PATH)
    assert len(replies) == 10
    berries = replies[0]
    assert berries.gold == "1200"  # the solution's last line, its thousands separator dropped
    assert berries.context[0].startswith("Four friends pick 300 berries each.")
    assert berries.context[1].startswith("Mia and three others")
    assert (berries.reveal, berries.guidance, berries.split) == (
        "correct",
        "guidance",
        "development",
    )
    bridge = replies[-1]
    assert bridge.gold is None and bridge.source == "Bridge" and bridge.split == "held-out"
    assert bridge.context == (
        "Polygons have straight sides. What is the name of a 5 sided polygon?",
        "an octagon",
    )


def test_cards_recomputed_from_the_fixture() -> None:
    reveal, wrong, guidance = validate(FIXTURE)
    assert [c.scorer for c in (reveal, wrong, guidance)] == [
        "no_answer_reveal_mrbench",
        "reveals_incorrect_answer_mrbench",
        "provides_guidance_mrbench",
    ]
    assert {c.split for c in (reveal, wrong, guidance)} == {"held-out"}
    assert reveal.scorer_version == f"rules {RULES_VERSION}"
    assert MRBENCH_COMMIT[:12] in reveal.data
    assert reveal.n == 5 and reveal.confusion == {
        "reveal": {"reveal": 1, "no_reveal": 0},
        "no_reveal": {"reveal": 0, "no_reveal": 4},
    }
    assert reveal.kappa == pytest.approx(1.0)
    assert reveal.baseline_kappa == pytest.approx(6 / 11)
    assert "2 replies to dialogues without a reference answer (Bridge) are left out" in reveal.notes
    assert wrong.n == 5 and wrong.agreement == pytest.approx(4 / 5)
    assert wrong.kappa == pytest.approx(0.0) and wrong.baseline_kappa is None
    assert guidance.n == 7 and guidance.confusion == {
        "guidance": {"guidance": 3, "no_guidance": 1},
        "no_guidance": {"guidance": 1, "no_guidance": 2},
    }
    assert guidance.kappa == pytest.approx(5 / 12)
    assert guidance.baseline_kappa == pytest.approx(5 / 12)
    # the development half is in the notes
    assert f"development half (the rules were written against it): n=3, agreement={1:.4f}" in (
        reveal.notes
    )
    assert f"n=3, agreement={1 / 3:.4f}, κ={-1 / 2:.3f}" in guidance.notes


def _write(path: Path, records: object) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_a_bad_dialogue_is_named(tmp_path: Path) -> None:
    good = json.loads((FIXTURE / MRBENCH_PATH).read_text(encoding="utf-8"))[1]
    bad = json.loads(json.dumps(good))
    bad["anno_llm_responses"]["A"]["annotation"]["Revealing_of_the_Answer"] = "Maybe"
    with pytest.raises(ValueError, match=r"dialogue 2: tutor 'A': Revealing_of_the_Answer"):
        load_mrbench(_write(tmp_path / "m.json", [good, bad]))
    del bad["conversation_history"]
    with pytest.raises(ValueError, match="dialogue 1: missing field"):
        load_mrbench(_write(tmp_path / "m.json", [bad]))
    with pytest.raises(ValueError, match="not a JSON list"):
        load_mrbench(_write(tmp_path / "m.json", {"dialogues": []}))
    (tmp_path / "m.json").write_text("[{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"m\.json: not JSON"):
        load_mrbench(tmp_path / "m.json")


def test_no_replies_in_a_half_is_an_error_not_a_card() -> None:
    replies = [r for r in load_mrbench(FIXTURE / MRBENCH_PATH) if r.split == "held-out"]
    with pytest.raises(ValueError, match="no pairs"):
        mrbench_cards(replies, "2026-01-01")


def test_a_folder_without_the_file_is_a_clear_skip(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"MRBench/MRBench_V2.json not found"):
        validate(tmp_path)


def test_without_a_folder_the_cached_download_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = tmp_path / "validation" / MRBENCH_REPO / MRBENCH_COMMIT / MRBENCH_PATH
    cached.parent.mkdir(parents=True)
    shutil.copy(FIXTURE / MRBENCH_PATH, cached)
    monkeypatch.setenv("TUTORLAB_DATA_DIR", str(tmp_path))
    assert [card.n for card in validate(None)] == [5, 5, 7]
