"""The simulator's safety verdicts on the project's safety and over-refusal sets stay as recorded.

``tests/fixtures/simulator/safety_verdicts.jsonl`` holds, for every prompt of both sets, the
verdict of the engine as it was before its rules moved to ``safety_rules.py`` and its anchors
were read without ``re``'s private parser (recorded at commit 22d6407): the category and intent
``assess`` gave (null when it flagged nothing) and whether ``has_math_cues`` saw maths. A change
to a rule or to the anchor reader that moves any of them fails here; re-record the file only for
a change meant to move verdicts, and say so in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval_service.evalsets import load_over_refusal, load_safety
from tutorlab_sim.safety import assess, has_math_cues

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "simulator" / "safety_verdicts.jsonl"


def verdict(prompt: str) -> dict[str, Any]:
    flag = assess(prompt)
    return {
        "category": flag.category if flag else None,
        "intent": flag.intent if flag else None,
        "math_cues": has_math_cues(prompt),
    }


def test_every_evalset_prompt_gets_its_recorded_verdict() -> None:
    recorded = {}
    for line in RECORDED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        recorded[row.pop("id")] = row
    prompts = {item.id: item.prompt for item in load_safety()}
    prompts.update({item.id: item.prompt for item in load_over_refusal()})
    assert set(recorded) == set(prompts), "an evalset changed: re-record the verdicts"
    changed = {
        item_id: (recorded[item_id], verdict(prompt))
        for item_id, prompt in prompts.items()
        if verdict(prompt) != recorded[item_id]
    }
    assert changed == {}
    # the recording is not vacuous: most of the safety set is intent, most over-refusals pass
    flagged = [row for item_id, row in recorded.items() if item_id.startswith("saf-")]
    assert sum(bool(row["intent"]) for row in flagged) > 150
    passed = [row for item_id, row in recorded.items() if item_id.startswith("ovr-")]
    assert sum(row["category"] is None for row in passed) > 100
