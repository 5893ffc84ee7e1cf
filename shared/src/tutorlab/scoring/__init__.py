"""Answer extraction and scoring, shared by eval (benchmarks), data (filters) and trainer (rewards).

Everything here is pure and fast except ``MathVerifier``, which owns the worker processes that run
math-verify. Record ``SCORER_VERSION`` (math scoring) and ``RULES_VERSION`` (tutoring and safety
rules) with every result. Verdicts are frozen dataclasses: ``dataclasses.asdict(verdict)``.

    verdict = score_math_response(gold, response, kind="gsm8k")
    async with MathVerifier() as verifier:
        verdicts = await score_math_responses(items, kind="math", verifier=verifier)
"""

from tutorlab.scoring.extract import (
    Extraction,
    ExtractionRule,
    extract_answer,
    stated_answers,
    strip_thinking,
)
from tutorlab.scoring.mathverify import MathVerifier, VerifyResult, math_equal
from tutorlab.scoring.numeric import (
    exact_match,
    normalize_answer,
    numeric_equal,
    parse_number,
    partial_match,
)
from tutorlab.scoring.refusal import RefusalLabel, RefusalVerdict, classify_refusal
from tutorlab.scoring.tutoring import (
    GuidanceVerdict,
    RevealVerdict,
    answer_revealed,
    guidance,
    reveal,
)
from tutorlab.scoring.verdicts import (
    MathKind,
    MathVerdict,
    score_math_response,
    score_math_responses,
    score_math_responses_sync,
)
from tutorlab.scoring.versions import RULES_VERSION, SCORER_VERSION

__all__ = [
    "RULES_VERSION",
    "SCORER_VERSION",
    "Extraction",
    "ExtractionRule",
    "GuidanceVerdict",
    "MathKind",
    "MathVerdict",
    "MathVerifier",
    "RefusalLabel",
    "RefusalVerdict",
    "RevealVerdict",
    "VerifyResult",
    "answer_revealed",
    "classify_refusal",
    "exact_match",
    "extract_answer",
    "guidance",
    "math_equal",
    "normalize_answer",
    "numeric_equal",
    "parse_number",
    "partial_match",
    "reveal",
    "score_math_response",
    "score_math_responses",
    "score_math_responses_sync",
    "stated_answers",
    "strip_thinking",
]
