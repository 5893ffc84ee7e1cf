"""Math answer extraction speed: ns per reply on GSM8K answers, and degenerate replies.

    uv run python bench/scorer_extract.py [--dataset ../shared/datasets/gsm8k/test.jsonl]

CPU time per reply (process time: the shared machine's load skews wall time). Three shapes
of a normal reply, from the GSM8K test solutions: as written (``#### N``), with the
last line as a sentence ("The answer is N."), and with it removed (the last-number fallback).
Then degenerate replies, each of about 1 MB (thousands of ``\\boxed{``, of braces, of numbers,
of "=" signs): the ideal is linear time, so each is printed as seconds per MB and as a ratio to
a plain ``str.count`` pass over the same text (a floor no scorer can beat). Bound: every
degenerate reply scores in under 2 s per MB.
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
_MB = 1_000_000
_T = TypeVar("_T")
_BOUND_S_PER_MB = 2.0


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


def _degenerate() -> dict[str, str]:
    return {
        "unclosed boxes": "\\boxed{" * (_MB // 7),
        "closed boxes": "\\boxed{1} " * (_MB // 10),
        "open braces": "{" * _MB,
        "numbers": "12 + 3 = 15. " * (_MB // 13),
        "answer cues": "The answer is " * (_MB // 14),
        "long equation": "1+" * (_MB // 2) + "1",
        "think blocks": "<think>x</think>" * (_MB // 16),
    }


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
    worst = 0.0
    print("degenerate replies (~1 MB each): s per MB, ratio to one str.count pass")
    for name, text in _degenerate().items():
        start = time.perf_counter()
        text.count("{")
        floor = max(time.perf_counter() - start, 1e-6)
        start = time.perf_counter()
        score_math_response("1", text, kind="math")
        took = time.perf_counter() - start
        per_mb = took / (len(text) / _MB)
        worst = max(worst, per_mb)
        print(f"  {name:<16} {per_mb:7.3f} s/MB   x{took / floor:9.0f}")
    verdict = "ok" if worst < _BOUND_S_PER_MB else "OVER"
    print(f"worst {worst:.3f} s/MB (bound {_BOUND_S_PER_MB} s/MB): {verdict}")
    if worst >= _BOUND_S_PER_MB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
