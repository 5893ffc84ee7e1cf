"""The normalized record every service agrees on.

Ids are stable across sources (hub or mirror):
- GSM8K: ``gsm8k-<split>-<index:05d>``, the 0-based line index in the openai/grade-school-math file;
- MATH and MATH-500: the original release's ``unique_id`` (``test/algebra/1.json``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

#: dataset name -> splits it has
DATASET_SPLITS: dict[str, tuple[str, ...]] = {
    "gsm8k": ("train", "test"),
    "math": ("train", "test"),
    "math500": ("test",),
}

_GSM8K_FINAL = re.compile(r"####\s*(.+?)\s*$", re.S)
_CALC = re.compile(r"<<[^>]*>>")


class DatasetRecord(BaseModel):
    id: str
    dataset: str
    split: str
    question: str
    answer: str | None = Field(description="gold final answer (GSM8K: the number after ####)")
    solution: str
    metadata: dict[str, Any] = Field(default_factory=dict)


def gsm8k_final_answer(solution: str) -> str:
    """The gold final answer of a GSM8K solution: what follows ``####``, commas removed."""
    match = _GSM8K_FINAL.search(solution)
    if match is None:
        raise ValueError("GSM8K solution has no '#### <answer>' line")
    return match.group(1).replace(",", "").strip()


def gsm8k_record(
    index: int, split: str, question: str, answer: str, socratic: str | None = None
) -> DatasetRecord:
    """Normalize one openai/grade-school-math line (``answer`` is the full solution text)."""
    metadata: dict[str, Any] = {
        "calculations": [c[2:-2] for c in _CALC.findall(answer)],
    }
    if socratic is not None:
        metadata["socratic_subquestions"] = [
            line.split(" ** ", 1)[0].strip() for line in socratic.splitlines() if " ** " in line
        ]
    return DatasetRecord(
        id=f"gsm8k-{split}-{index:05d}",
        dataset="gsm8k",
        split=split,
        question=question.strip(),
        answer=gsm8k_final_answer(answer),
        solution=answer.strip(),
        metadata=metadata,
    )


def math_record(row: dict[str, Any], dataset: str = "math") -> DatasetRecord:
    """Normalize one MATH line (unique_id, problem, solution, answer, subject, level)."""
    level = row.get("level")
    level_num: int | None = None
    if isinstance(level, str) and level.strip().split()[-1].isdigit():
        level_num = int(level.strip().split()[-1])
    elif isinstance(level, int):
        level_num = level
    unique_id = row["unique_id"]
    return DatasetRecord(
        id=unique_id,
        dataset=dataset,
        split=unique_id.split("/", 1)[0] if "/" in unique_id else "test",
        question=row["problem"].strip(),
        answer=row.get("answer"),
        solution=row["solution"].strip(),
        metadata={"subject": row.get("subject") or row.get("type"), "level": level_num},
    )
