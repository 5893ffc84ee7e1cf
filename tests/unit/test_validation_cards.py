"""Cohen's kappa and the confusion matrix, against values computed by hand."""

from __future__ import annotations

import pytest
from tutorlab.scoring.validation import agreement_stats, cohen_kappa


def test_kappa_by_hand() -> None:
    # 10 items: 4 yes/yes, 1 yes/no, 2 no/yes, 3 no/no -> po = 0.7
    # pe = (5*6 + 5*4) / 100 = 0.5 -> kappa = 0.2 / 0.5 = 0.4
    pairs = [("y", "y")] * 4 + [("y", "n")] + [("n", "y")] * 2 + [("n", "n")] * 3
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    stats = agreement_stats(pairs, labels=("y", "n"))
    assert stats.n == 10
    assert stats.agreement == pytest.approx(0.7)
    assert stats.confusion == {"y": {"y": 4, "n": 1}, "n": {"y": 2, "n": 3}}


def test_kappa_perfect_and_single_label() -> None:
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "a"), ("a", "a")]) == pytest.approx(1.0)


def test_unknown_label_is_an_error() -> None:
    with pytest.raises(ValueError, match="labels not in"):
        agreement_stats([("a", "c")], labels=("a", "b"))
