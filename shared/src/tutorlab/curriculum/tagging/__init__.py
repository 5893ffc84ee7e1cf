"""The deterministic rule tagger: topic tags and a grade for a math problem (docs/taxonomy.md).

The tables of cues and weights are in :mod:`.rules`, what the rules see of a problem is prepared
by :mod:`.text`, and :mod:`.tagger` applies the one to the other. Callers import from here.
"""

from tutorlab.curriculum.tagging.rules import RULES_VERSION
from tutorlab.curriculum.tagging.tagger import (
    GradeSource,
    RuleTagger,
    TagResult,
    default_tagger,
    tag_problem,
)

__all__ = [
    "RULES_VERSION",
    "GradeSource",
    "RuleTagger",
    "TagResult",
    "default_tagger",
    "tag_problem",
]
