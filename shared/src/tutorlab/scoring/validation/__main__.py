"""``python -m tutorlab.scoring.validation`` (``make validate-scorers``): re-compute every scorer's
validation card from the public human-labelled files and compare it with the published one.

Each validator module (``math``, ``refusal``, ``tutoring``) exposes
``validate(source_dir: Path | None) -> list[ValidationCard]``: it reads the public files from
``source_dir`` when given, else downloads them (cached under the data directory). Offline, a
validator whose files cannot be had is skipped with a message saying which files it needs.
``--write`` replaces the published cards with the new numbers.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from tutorlab.scoring.validation.cards import ValidationCard, load_cards
from tutorlab.scoring.validation.sources import SourceUnavailable

VALIDATORS = ("math", "refusal", "tutoring")
CARDS_DIR = Path(__file__).parent / "cards"


def _run(name: str, source_dir: Path | None) -> list[ValidationCard] | None:
    module = importlib.import_module(f"tutorlab.scoring.validation.{name}")
    try:
        cards: list[ValidationCard] = module.validate(source_dir)
    except SourceUnavailable as exc:
        print(f"{name}: skipped — {exc}")
        return None
    return cards


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
    args = parser.parse_args(argv)
    published = load_cards()
    drifted = False
    for name in args.only or VALIDATORS:
        cards = _run(name, args.source_dir)
        for card in cards or []:
            before = published.get(card.scorer)
            was = f" (published: {before.kappa:.3f})" if before else " (not published)"
            print(
                f"{card.scorer} v{card.scorer_version} on {card.split}: n={card.n} "
                f"agreement={card.agreement:.4f} kappa={card.kappa:.3f}{was}"
            )
            if before is not None and (before.n, before.kappa) != (card.n, card.kappa):
                drifted = True
            if args.write:
                path = CARDS_DIR / f"{card.scorer}.json"
                path.write_text(json.dumps(card.model_dump(), indent=2) + "\n", encoding="utf-8")
    if drifted and not args.write:
        print("the numbers differ from the published cards: run with --write to publish them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
