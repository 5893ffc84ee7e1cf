"""``python -m tutorlab.scoring.validation`` (``make validate-scorers``): re-compute every scorer's
validation card from the public human-labelled files and compare it with the published one.

Each validator module (``math``, ``refusal``, ``tutoring``, ``mrbench``) exposes
``validate(source_dir: Path | None) -> list[ValidationCard]``: it reads the public files from
``source_dir`` when given, else downloads them (cached under the data directory). Offline, a
validator whose files cannot be had is skipped with a message saying which files it needs.
``--write`` replaces the published cards with the new numbers.

``--judge <model>`` validates an LLM judge instead: the registered model ``<model>`` (resolved in
tutor-api's registry, ``--tutor-api-url``, default ``$TUTOR_API_URL``) is sent the judge rubrics'
prompts for XSTest's development completions, MathDial's development turns and MRBench's
development replies (``tutorlab.scoring.validation.judge``); a card per metric is printed
(``--out`` writes them as JSON). ``--limit N`` judges the first N items of each file only;
``--only refusal``, ``--only tutoring`` or ``--only mrbench`` one data set.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tutorlab.scoring.validation.cards import ValidationCard, load_cards
from tutorlab.scoring.validation.judge import JUDGE_SETS, JudgeValidationError, validate_judge
from tutorlab.scoring.validation.sources import SourceUnavailable
from tutorlab.settings import DEFAULT_PORTS

VALIDATORS = ("math", "refusal", "tutoring", "mrbench")
CARDS_DIR = Path(__file__).parent / "cards"


def _run(name: str, source_dir: Path | None) -> list[ValidationCard] | None:
    module = importlib.import_module(f"tutorlab.scoring.validation.{name}")
    try:
        cards: list[ValidationCard] = module.validate(source_dir)
    except SourceUnavailable as exc:
        print(f"{name}: skipped — {exc}")
        return None
    return cards


def _judge(args: argparse.Namespace) -> int:
    """Validate the registered judge model ``args.judge``; print (and ``--out``) its cards."""
    try:
        cards = asyncio.run(
            validate_judge(
                args.judge,
                args.tutor_api_url,
                api_key=os.environ.get("TUTORLAB_API_KEY") or None,
                source_dir=args.source_dir,
                only=args.only or JUDGE_SETS,
                split=args.split,
                limit=args.limit,
            )
        )
    except (JudgeValidationError, SourceUnavailable) as exc:
        print(f"judge validation failed: {exc}", file=sys.stderr)
        return 2
    _print(cards, {})
    if args.out is not None:
        dumped = [card.model_dump() for card in cards]
        args.out.write_text(json.dumps(dumped, indent=2) + "\n", encoding="utf-8")
        print(f"cards written to {args.out}")
    return 0


def _print(cards: Sequence[ValidationCard], published: dict[str, ValidationCard]) -> None:
    for card in cards:
        before = published.get(card.scorer)
        was = f" (published: {before.kappa:.3f})" if before else " (not published)"
        name = f"{card.scorer} {card.metric}" if card.metric else card.scorer
        print(
            f"{name} v{card.scorer_version} on {card.split}: n={card.n} "
            f"agreement={card.agreement:.4f} kappa={card.kappa:.3f}{was}"
            + (f" (rules on the same items: {card.baseline_kappa:.3f})" if card.metric else "")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--source-dir",
        type=Path,
        help="a folder holding the public files (each validator names the ones it reads); "
        "default: download them, cached under the data directory",
    )
    parser.add_argument("--only", choices=VALIDATORS, action="append", help="run only these")
    parser.add_argument("--write", action="store_true", help="replace the published cards")
    judge = parser.add_argument_group("an LLM judge (instead of the rules)")
    judge.add_argument("--judge", metavar="MODEL", help="a model registered in tutor-api")
    judge.add_argument(
        "--tutor-api-url",
        default=os.environ.get("TUTOR_API_URL") or f"http://127.0.0.1:{DEFAULT_PORTS['tutor-api']}",
        help="where the registry is (default: $TUTOR_API_URL, else the local tutor-api)",
    )
    judge.add_argument(
        "--limit", type=int, help="judge only the first N items of each file (N >= 1)"
    )
    judge.add_argument(
        "--split",
        choices=("development", "held-out"),
        default="development",
        help="MathDial's and MRBench's half to judge (default: development)",
    )
    judge.add_argument("--out", type=Path, help="write the judge's cards to this JSON file")
    args = parser.parse_args(argv)
    if args.judge is None:
        for flag, value in (("--out", args.out), ("--limit", args.limit)):
            if value is not None:
                parser.error(f"{flag} needs --judge")
    else:
        if args.write:
            parser.error("--write publishes the rules' cards; with --judge use --out FILE")
        if set(args.only or ()) - set(JUDGE_SETS):
            parser.error(f"--only: a judge is validated on {', '.join(JUDGE_SETS)} only")
        if args.limit is not None and args.limit < 1:
            parser.error(f"--limit must be 1 or more, not {args.limit}")
        return _judge(args)
    published = load_cards()
    drifted = False
    for name in args.only or VALIDATORS:
        cards = _run(name, args.source_dir)
        _print(cards or [], published)
        for card in cards or []:
            before = published.get(card.scorer)
            if before is not None and (before.n, before.kappa) != (card.n, card.kappa):
                drifted = True
            if args.write:
                path = CARDS_DIR / f"{card.scorer}.json"
                dumped = card.model_dump(exclude=set() if card.metric else {"metric"})
                path.write_text(json.dumps(dumped, indent=2) + "\n", encoding="utf-8")
    if drifted and not args.write:
        print("the numbers differ from the published cards: run with --write to publish them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
