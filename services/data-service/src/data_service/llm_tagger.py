"""The optional LLM tagger: a prompt listing the taxonomy, and a strict parser for the reply.

A reply is usable only when it holds a JSON object ``{"topic_tags": [...], "grade": N}`` whose
tags are taxonomy ids; anything else is rejected with a reason (the job then keeps the rule
tagger's tags for that item and counts the fallback).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tutorlab.curriculum.taxonomy import GRADE_MAX, GRADE_MIN, Taxonomy
from tutorlab.scoring.extract import strip_thinking

LLM_TAGGER_VERSION = "llm-tagger/1"
MAX_LLM_TAGS = 3
MAX_PROBLEM_CHARS = 4000
_OBJECT = re.compile(r"\{.*\}", re.S)


def system_prompt(taxonomy: Taxonomy) -> str:
    topics = "\n".join(
        f"- {t.id}: {t.name} (grades {t.grade_min}-{t.grade_max})" for t in taxonomy.topics
    )
    return (
        "You label school mathematics problems. Choose 1 to "
        f"{MAX_LLM_TAGS} topic ids from the list below (most relevant first) and the US school "
        f"grade ({GRADE_MIN}-{GRADE_MAX}) at which a student would be expected to solve the "
        'problem. Reply with one JSON object and nothing else: {"topic_tags": ["<id>", ...], '
        '"grade": <integer>}.\n'
        f"Topics (taxonomy {taxonomy.version}):\n{topics}"
    )


def tagging_messages(taxonomy: Taxonomy, question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system_prompt(taxonomy)},
        {"role": "user", "content": f"Problem:\n{question.strip()[:MAX_PROBLEM_CHARS]}"},
    ]


@dataclass(frozen=True)
class LlmTags:
    topic_tags: list[str]
    grade: int


class UnusableReply(ValueError):
    """The model's reply is not a valid tagging; the message says why."""


def parse_reply(text: str, taxonomy: Taxonomy) -> LlmTags:
    body = strip_thinking(text)
    match = _OBJECT.search(body)
    if match is None:
        raise UnusableReply("no JSON object in the reply")
    try:
        data: Any = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise UnusableReply(f"invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise UnusableReply("the JSON is not an object")
    raw_tags = data.get("topic_tags")
    if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
        raise UnusableReply("topic_tags: not a list of strings")
    tags = list(dict.fromkeys(t.strip() for t in raw_tags if t.strip() in taxonomy))
    if not tags:
        raise UnusableReply(f"topic_tags: none of {raw_tags[:5]} is a taxonomy id")
    grade = data.get("grade")
    if isinstance(grade, str) and grade.strip().isdigit():
        grade = int(grade.strip())
    if isinstance(grade, bool) or not isinstance(grade, int) or not GRADE_MIN <= grade <= GRADE_MAX:
        raise UnusableReply(f"grade: {grade!r} is not an integer in {GRADE_MIN}..{GRADE_MAX}")
    return LlmTags(tags[:MAX_LLM_TAGS], grade)
