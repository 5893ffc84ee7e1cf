"""The tutoring policy: one place that turns (mode, grade, message, history) into messages.

Eval, data and trainer reuse it, so the prompt a model is trained on is the prompt it is served
and benchmarked with.
"""

from tutorlab.tutoring.policy import (
    PROMPT_VERSION,
    build_messages,
    grade_band,
    system_prompt,
    training_prompt,
)

__all__ = ["PROMPT_VERSION", "build_messages", "grade_band", "system_prompt", "training_prompt"]
