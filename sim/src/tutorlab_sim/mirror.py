"""The questions the simulator knows: GSM8K and MATH, read once from a dataset mirror, and the
benign maths prompts of TutorLab's over-refusal set (shipped with the eval-service, with their
gold answers), so a benchmark's ``over_refusal`` task is answered like any other question."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

_CALC = re.compile(r"<<[^>]*>>")

#: (dataset, split, file under the mirror), in lookup priority: test before train
SOURCES: tuple[tuple[str, str, str], ...] = (
    ("gsm8k", "test", "gsm8k/test.jsonl"),
    ("math", "test", "math/test.jsonl"),
    ("gsm8k", "train", "gsm8k/train.jsonl"),
    ("math", "train", "math/train.jsonl"),
)


#: (dataset, file under the eval-service's ``evalsets`` folder): items with a ``gold`` are known
EVALSETS: tuple[tuple[str, str], ...] = (("over_refusal", "over_refusal.jsonl"),)


@dataclass(frozen=True, slots=True)
class Item:
    """One benchmark question with its gold final answer."""

    index: int  # position in Mirror.items
    id: str  # gsm8k-<split>-<line:05d> or the MATH unique_id
    dataset: str
    split: str
    split_pos: int  # position among the items of (dataset, split)
    question: str
    solution: str
    gold: str

    @property
    def split_key(self) -> str:
        return f"{self.dataset}/{self.split}"


@dataclass(frozen=True, slots=True)
class Mirror:
    """Every loaded item, and the ids of each (dataset, split) in file order."""

    items: tuple[Item, ...]
    split_ids: dict[str, tuple[str, ...]]


def _gsm8k_gold(solution: str) -> str | None:
    _, sep, tail = solution.rpartition("####")
    if not sep:
        return None
    gold = tail.strip().replace(",", "")
    return gold or None


def load_mirror(root: Path | None) -> Mirror:
    """Read the mirror under ``root`` (cached per path); a missing mirror gives no items."""
    return _load_mirror(None if root is None else str(Path(root).expanduser().resolve()))


@lru_cache(maxsize=4)
def _load_mirror(root: str | None) -> Mirror:
    items: list[Item] = []
    split_ids: dict[str, tuple[str, ...]] = {}
    if root is None or not Path(root).is_dir():
        if root is not None:
            log.warning("dataset mirror %s not found: no GSM8K or MATH question is known", root)
    else:
        for dataset, split, rel in SOURCES:
            path = Path(root) / rel
            if not path.is_file():
                log.warning("dataset mirror has no %s: skipped", rel)
                continue
            split_ids[f"{dataset}/{split}"] = _read_benchmark(path, dataset, split, items)
        log.info("dataset mirror %s: %d questions", root, len(items))
    folder = evalsets_dir()
    for dataset, rel in EVALSETS:
        if folder is not None and (folder / rel).is_file():
            split_ids[f"{dataset}/test"] = _read_evalset(folder / rel, dataset, items)
    return Mirror(items=tuple(items), split_ids=split_ids)


def evalsets_dir() -> Path | None:
    """The eval-service's ``evalsets`` folder when that package is installed (not imported)."""
    spec = importlib.util.find_spec("eval_service")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "evalsets"


def _add(items: list[Item], ids: list[str], **fields: str) -> None:
    items.append(Item(index=len(items), split_pos=len(ids), **fields))
    ids.append(fields["id"])


def _read_benchmark(path: Path, dataset: str, split: str, items: list[Item]) -> tuple[str, ...]:
    ids: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle):
            if not line.strip():
                continue
            row = json.loads(line)
            if dataset == "gsm8k":
                item_id = f"gsm8k-{split}-{line_no:05d}"
                question, solution = row["question"], row["answer"]
                gold = _gsm8k_gold(solution)
                solution = _CALC.sub("", solution)
            else:
                item_id = row["unique_id"]
                question, solution, gold = row["problem"], row["solution"], row.get("answer")
            if not gold:
                continue  # nothing to grade against: treated as an unknown question
            _add(
                items,
                ids,
                id=item_id,
                dataset=dataset,
                split=split,
                question=question.strip(),
                solution=solution.strip(),
                gold=str(gold).strip(),
            )
    return tuple(ids)


def _read_evalset(path: Path, dataset: str, items: list[Item]) -> tuple[str, ...]:
    """The prompts of an evaluation set that have a gold answer (no worked solution)."""
    ids: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line) if line.strip() else {}
            if row.get("gold"):
                _add(
                    items,
                    ids,
                    id=row["id"],
                    dataset=dataset,
                    split="test",
                    question=row["prompt"].strip(),
                    solution="",
                    gold=str(row["gold"]).strip(),
                )
    return tuple(ids)
