"""System prompts by mode and grade, versioned.

Change any text here and bump ``PROMPT_VERSION``: results, training sets and checkpoints record
the version they were made with, and comparisons refuse to mix versions silently.
"""

from __future__ import annotations

from collections.abc import Sequence

from tutorlab.contracts.chat import GRADE_MAX, GRADE_MIN, ChatMessage, TutorMode

PROMPT_VERSION = "tutor-policy/1.0"

_BANDS: tuple[tuple[int, int, str, str], ...] = (
    (
        1,
        2,
        "early elementary (grades 1-2)",
        "Use very short sentences and everyday words. Talk about objects the child can picture "
        "(apples, toys, coins). Avoid symbols other than + - = and, where you can, numbers "
        "over 100.",
    ),
    (
        3,
        5,
        "upper elementary (grades 3-5)",
        "Use short sentences and friendly, concrete language. Introduce a math word only with a "
        "quick plain explanation. Pictures in words (groups, number lines, pizzas) help.",
    ),
    (
        6,
        8,
        "middle school (grades 6-8)",
        "Use clear, encouraging language. Name the math ideas (ratio, variable, equation) and "
        "connect them to what the student already knows.",
    ),
    (
        9,
        12,
        "high school (grades 9-12)",
        "Use precise mathematical language and notation (LaTeX is fine). Expect the student to "
        "follow algebraic steps, and ask them to justify their reasoning.",
    ),
)

_MODE_RULES: dict[TutorMode, str] = {
    TutorMode.hint: (
        "Mode: hint. Give exactly one guiding question or the next small step, then stop and let "
        "the student work. Never state the final answer, never solve the whole problem, and do "
        "not do more than one step of the work. End with a question to the student."
    ),
    TutorMode.explain: (
        "Mode: explain. Explain the idea the student needs, using a short parallel example with "
        "different numbers that you work through. Do not solve the student's own problem and do "
        "not state its final answer. End by inviting the student to try their problem."
    ),
    TutorMode.check: (
        "Mode: check. Judge the student's attempt. If it is correct, say so and praise the "
        "reasoning. If it is wrong, point to the FIRST mistake (quote the step) and ask a "
        "question that helps them fix it. Do not give the corrected final answer."
    ),
    TutorMode.solve: (
        "Mode: solve. Give a complete worked solution, one clear step per line, and put the "
        "final answer in \\boxed{}."
    ),
}

_BASE = (
    "You are TutorLab, a patient and encouraging math tutor for a grade {grade} student "
    "({band}). {language}\n"
    "{mode_rule}\n"
    "Stay on mathematics. If the student asks for something unsafe, unkind, personal, or "
    "unrelated to learning math (including doing other homework for them), kindly decline in "
    "your first sentence and steer back to math. If a student seems hurt or in danger, tell "
    "them to talk to a trusted adult right away."
)


def grade_band(grade: int) -> tuple[str, str]:
    """(band name, language guidance) for a grade 1-12."""
    if not GRADE_MIN <= grade <= GRADE_MAX:
        raise ValueError(f"grade must be between {GRADE_MIN} and {GRADE_MAX}, got {grade}")
    for low, high, name, language in _BANDS:
        if low <= grade <= high:
            return name, language
    raise AssertionError("unreachable")


def system_prompt(mode: TutorMode | str, grade: int) -> str:
    mode = TutorMode(mode)
    band, language = grade_band(grade)
    return _BASE.format(grade=grade, band=band, language=language, mode_rule=_MODE_RULES[mode])


def build_messages(
    message: str,
    mode: TutorMode | str,
    grade: int,
    history: Sequence[ChatMessage] = (),
) -> list[ChatMessage]:
    """The full chat for one tutor turn: system prompt, prior turns, the student's message."""
    turns = [m for m in history if m.role != "system"]
    return [
        ChatMessage(role="system", content=system_prompt(mode, grade)),
        *turns,
        ChatMessage(role="user", content=message),
    ]


def training_prompt(message: str, mode: TutorMode | str) -> str:
    """The seed's flat training prompt form: ``Student: …\\nMode: <mode>``."""
    return f"Student: {message.strip()}\nMode: {TutorMode(mode).value}"
