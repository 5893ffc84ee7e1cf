"""Math answer extraction and scoring on ordinary replies: CPU time per reply.

    uv run python bench/scorer_extract.py [--dataset ../shared/datasets/gsm8k/test.jsonl]

Three shapes of a reply, from GSM8K's 1,319 test solutions: as written (``#### N``), with the
last line as a sentence ("The answer is N."), and with it removed (the fallback reads the
closing sentence). Process time, best of ``--rounds``: the shared machine's load skews wall
time. The scorer is on the hot path of every GSM8K/MATH benchmark and RLVR reward, so a change
to extraction is measured here before and after (run the old tree with ``PYTHONPATH``).
Degenerate replies (1 MB, linear time) are ``bench/scoring_degenerate.py``'s.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tutorlab.scoring import extract_answer, score_math_response

_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "gsm8k" / "test.jsonl"
_T = TypeVar("_T")


def _per_item_ns(fn: Callable[[_T], object], items: list[_T], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time_ns()
        for item in items:
            fn(item)
        best = min(best, (time.process_time_ns() - start) / len(items))
    return best


def _score_pair(pair: tuple[str, str]) -> object:
    return score_math_response(pair[0], pair[1], kind="gsm8k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=_DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.dataset.read_text().splitlines() if line.strip()]
    answers = [row["answer"] for row in rows]
    golds = [a.rsplit("####", 1)[1].strip() for a in answers]
    stated = [re.sub(r"\n#### (.*)$", r"\nThe answer is \1.", a) for a in answers]
    bare = [a.rsplit("\n####", 1)[0] for a in answers]
    print(f"{len(answers)} GSM8K test solutions, best of {args.rounds} rounds")
    for name, texts in (("#### N", answers), ("answer is N", stated), ("last number", bare)):
        ns = _per_item_ns(extract_answer, texts, args.rounds)
        ns_score = _per_item_ns(_score_pair, list(zip(golds, texts, strict=True)), args.rounds)
        print(
            f"  {name:<12} extract {ns / 1000:8.1f} µs/item   score {ns_score / 1000:8.1f} µs/item"
        )


if __name__ == "__main__":
    main()
