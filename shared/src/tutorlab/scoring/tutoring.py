"""Tutoring rules: does a reply give the answer away, and does it guide the student?

Rules (``RULES_VERSION``), applied to the reply without its ``<think>`` block (``visible_text``:
a reply over 16,000 characters is read at its first and last 8,000). The reply is cut
into sentences; a sentence is a question when it ends in ``?``. Validated against MRBench's
human "reveals the answer" and "provides guidance" labels (``tutorlab.scoring.validation.
mrbench``) and MathDial's teacher-move labels (``tutorlab.scoring.validation.tutoring``);
``docs/scorers.md`` has the cards.

``reveal`` (``no_answer_reveal``, ``reveals_incorrect_answer``)
    A reply *states* a value when it asserts it: a number in a declarative sentence, the result
    after ``=`` (in any sentence), a number word from three up; after ``=`` or a verb ("is",
    "makes", "leaves") it stands as a *result*. It does not state the operands of a written
    computation (``12 / 2 = 6`` states 6, not 12 or 2; "divide 12 by 2", "half of 10"), list
    markers (``2.``, ``Step 2``), numbers in a question ("Is it 24?", or without its mark: "so
    how many are left"), or the values of a sentence that gives them back to the student or to
    what is settled ("you found 15", "you have the first part correct at 20", "we know there
    are 6"). An answer statement (``\\boxed{}``, ``####``, "final answer", "the answer is",
    "the correct answer ... is", "the right answer of", "14 is our required answer") states its
    value too. A stated value is *concluded* when the reply gives it as a conclusion or a
    correction: in a sentence opening "So", "Therefore", "That means"; after "should be",
    "would actually be", "is actually"; or before ", not 40" / "rather than 40". A value after
    ``=`` is *computed* when arithmetic stands before it (``15 x 84 hours = 1260``, not
    ``0.1x = 50``); the last computed value closes the work.

    1. ``answer_statement``: an answer statement equal to the gold reveals it, also when the
       problem or the student already gave the value ("so the answer is 12").
    2. ``stated_result``: a stated value equal to the gold reveals it unless the gold value
       already appears in ``context_texts`` (the problem, the student's messages): restating a
       number the student or the problem gave is not a reveal. A division written out (``48/2``)
       is a question, not the answer, when the gold is an integer. A small whole gold (-2..2)
       counts only as a result: "2 packs" is a count in passing, "the difference is 2" a result.
    3. ``concluded_result``: the gold concluded, or closing the work, reveals it even when the
       context holds it ("the total should be 1200, not 1800" after the student's
       ``300 + 1200 + 300 = 1800``): stating a value as the result is telling it, wherever the
       number was seen before. Not when the student's own latest answer -- the last value the
       last context text (their message) states -- already is the gold: agreeing is not telling.
    4. ``symbolic``: a non-numeric (LaTeX) gold of 3+ normalized characters appears in the
       normalized reply and not in the context. Equivalent forms need math-verify (check
       ``stated_answers(reply)`` against the gold with ``MathVerifier``).

    ``reveals_incorrect_answer``: the reply's final answer — its last answer statement, or the
    result closing the work of a full solution (see ``guidance``) — is a number other than the
    numeric gold, not one the context gave (unless the reply calls it the correct or right
    answer: endorsing the student's wrong answer states it), and the gold is not revealed.
    Numeric golds only.

``guidance`` (``provides_guidance``, ``asks_question``, ``invented_turns``)
    The reply is first cut at an invented dialogue turn: a line that opens with a role label
    (``### User:``, ``Student:``, ``**Tutor:**`` after the first line; a student/user label
    anywhere) or a chat-template token (``<|im_start|>``, ``[INST]``); ``invented_turns`` flags
    it. Reveal is judged on the whole reply (the student sees it all), guidance on the tutor's
    own turn.

    - ``asks_question``: a sentence ends in ``?`` outside math, code and quotes.
    - ``steps``: computation equations ``a op b = c`` (a chain counts once; GSM8K ``<<..>>``
      annotations are dropped) plus numbered list items / "Step N" lines with no equation that are
      not questions.
    - ``full_solution``: a boxed answer, an answer statement holding a digit or LaTeX, or 3+ steps.
    - ``provides_guidance``: no full solution, and some sentence is *targeted* at the student's
      problem — after its opening praise or greeting ("Great!", "Hi Sam,") it holds a number, a
      math term (add, half, total, per, equation, ...), or a content word of the problem or the
      student's message (``context_texts``). A declarative hint counts; a content-free question
      ("Can you tell me more?", "Talk me through your solution") does not. The tutoring metric
      also withholds it from a reply that reveals the final answer (``scoring.tasks``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, NamedTuple

from tutorlab.scoring._latex import strip_math_spans
from tutorlab.scoring.extract import boxed_answers, stated_answers, strip_thinking
from tutorlab.scoring.numeric import (
    exact_match,
    find_number_tokens,
    normalize_answer,
    numeric_equal,
    parse_number,
    partial_match,
)

__all__ = [
    "GuidanceVerdict",
    "RevealRule",
    "RevealVerdict",
    "StatedValue",
    "answer_revealed",
    "guidance",
    "number_words",
    "reveal",
    "split_invented_turns",
    "stated_values",
    "visible_text",
]

_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_UNITS = {word: value for value, word in enumerate(_UNIT_WORDS.split(" "))}
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_TENS = {word: 10 * (value + 2) for value, word in enumerate(_TEN_WORDS.split(" "))}
_MIN_WORD_VALUE = 3
_MIN_SYMBOLIC_GOLD = 3
#: characters read from the start and from the end of a longer reply (a tutoring turn is a few
#: hundred; the rules stay linear, and a 1 MB degenerate reply costs what 16 KB does)
SCAN_HEAD = SCAN_TAIL = 8_000
_FULL_SOLUTION_STEPS = 3


def _read_number_words(words: list[str], i: int) -> tuple[int | None, int]:
    """The number spelled from ``words[i]`` on (0..999) and how many words it used."""
    j, total = i, None
    if (
        j + 1 < len(words)
        and words[j + 1] == "hundred"
        and (words[j] == "a" or 1 <= _UNITS.get(words[j], 0) <= 9)
    ):
        total = 100 * (1 if words[j] == "a" else _UNITS[words[j]])
        j += 2
        after_and = words[j + 1] if j + 1 < len(words) else ""
        if words[j : j + 1] == ["and"] and (after_and in _UNITS or after_and in _TENS):
            j += 1
    if j < len(words) and words[j] in _TENS:
        total = (total or 0) + _TENS[words[j]]
        j += 1
        if j < len(words) and 1 <= _UNITS.get(words[j], 0) <= 9:
            total += _UNITS[words[j]]
            j += 1
    elif j < len(words) and words[j] in _UNITS:
        total = (total or 0) + _UNITS[words[j]]
        j += 1
    return total, max(1, j - i)


#: a quick test before the word-by-word reading: does the text hold a number word at all
_ANY_NUMBER_WORD = re.compile(
    rf"\b(?:{_UNIT_WORDS.replace(' ', '|')}|{_TEN_WORDS.replace(' ', '|')}|hundred)", re.I
)


def number_words(text: str) -> list[int]:
    """Numbers spelled out in ``text`` (0..999: ``eighteen``, ``twenty-five``, ``a hundred``)."""
    if _ANY_NUMBER_WORD.search(text) is None:
        return []
    words = re.findall(r"[a-z]+", text.lower())
    found, i = [], 0
    while i < len(words):
        value, used = _read_number_words(words, i)
        if value is not None:
            found.append(value)
        i += used
    return found


def visible_text(reply: str) -> str:
    """The reply without its ``<think>`` block, cut to its first ``SCAN_HEAD`` and last
    ``SCAN_TAIL`` characters when longer (the opening guides, the closing answers)."""
    text = strip_thinking(reply)
    if len(text) <= SCAN_HEAD + SCAN_TAIL:
        return text
    return f"{text[:SCAN_HEAD]}\n…\n{text[-SCAN_TAIL:]}"


def _mentions(gold: str, gold_value: Fraction, text: str) -> bool:
    """Whether ``text`` holds the numeric gold as a number token or (3+) a number word."""
    if partial_match(gold, text):
        return True
    return any(v >= _MIN_WORD_VALUE and v == gold_value for v in number_words(text))


# --- sentences and the values they state ----------------------------------------------------------

_CLOSERS = "\"'”’)\\]*_"
# a sentence: up to a run of . ! ? that is followed by (closing marks and) a space, or a line end;
# a period inside a number (2.5) or a word (e.g) does not end it. Possessive: linear.
_SENTENCE = re.compile(rf"(?:[^.!?\n]|[.!?]++(?![{_CLOSERS}]*+(?:\s|$)))*+[.!?]*+[{_CLOSERS}]*+")
_IS_QUESTION = re.compile(rf"\?[{_CLOSERS}]*$")
_LIST_MARKER = re.compile(r"^[ \t>*#-]*(?:\d+[.)](?=\s)|(?:step|part)[ \t]*\d+\b)", re.I)
_OPERATOR_AFTER = re.compile(
    r"[ \t]*+(?:[-+*/×÷·x]|\\times|\\cdot|\\div|times\b|plus\b|minus\b|divided by\b|"
    r"multiplied by\b|by\b)[ \t]*+\\?\$?[ \t]*+[\d(.]"
)
_OPERATOR_BEFORE = re.compile(
    r"[\d)%][ \t]*+(?:[-+*/×÷·x]|\\times|\\cdot|\\div|times|plus|minus|divided by|"
    r"multiplied by|by)[ \t]*+\\?\$?[ \t]*+\(?$"
)
_RESULT_BEFORE = re.compile(
    r"(?:=|\b(?:is|are|was|were|equals?|makes?|gives?|leaves?|gets?|got|becomes?|be))"
    r"[ \t]*+\\?\$?[ \t]*+$",
    re.I,
)
# "the answer is not 70", "it isn't 40": a value named only to be denied
_DENIED_BEFORE = re.compile(r"\b(?:not|isn't|n't be)[ \t*]*+\\?\$?[ \t]*+$", re.I)
_WORDED_OPERATION = re.compile(r"\b(?:half|third|quarter|double|twice) of[ \t]*+$", re.I)
# a question asked without "?" ("so how many are left")
_INTERROGATIVE = re.compile(
    r"\b(?:how (?:many|much|long|far|old|often)|what(?:'s| is| are| was| were| do| does| did|"
    r" would| will| if| about)|can you|could you|would you|will you|do you|did you|have you|"
    r"is it|is that|are there|is there)\b",
    re.I,
)
# the sentence gives the values back to their owner: the student's work or what is settled
_ATTRIBUTED = re.compile(
    r"\b(?:you(?:'ve|'re| have| had| are| were)?(?: already| just| correctly| also| rightly)* "
    r"(?:said|say|told|stated|wrote|written|found|got|gotten|calculated|worked out|identified|"
    r"mentioned|gave|given|are right|were right)"
    r"|you(?:'ve| have)\b[^.?!\n]{0,40}?\b(?:correct|right)\b"
    r"|we(?:'ve| have)?(?: already| now| also)* "
    r"(?:know|knew|found|worked out|calculated|said|established)|as you (?:said|found|noted))\b",
    re.I,
)
_LOOK_BEHIND = 24  # characters before a number read for an operator, "=" or a verb
# "15 x 84 hours = ", "(12 + 3) = ": the result of arithmetic, not of an equation in x
_COMPUTED_BEFORE = re.compile(r"[\d)%](?:[ \t]++[a-z]{2,}+)?[ \t]*+=[ \t]*+\\?\$?[ \t]*+$", re.I)
# an unknown in an equation: a letter glued to a number ("3x", "0.1y") or one standing alone
# ("x + 5"; "a" and "I" are words); a spaced "x" between numbers is a times sign
_VARIABLE = re.compile(r"\d[a-z](?![a-z])|(?<![a-z])[b-hj-z](?![a-z])", re.I)
_TIMES_SIGN = re.compile(r"(?<=\S)[ \t]++[x×][ \t]++(?=[\\$(]?\d)", re.I)


def _computed(before: str) -> bool:
    """Whether the ``=`` that ``before`` ends with closes arithmetic: a number (and its unit)
    stands before it, and no unknown in its left side (``3x/2 = 150`` is an equation)."""
    if _COMPUTED_BEFORE.search(before) is None:
        return False
    left = before[: before.rstrip(" \t$\\").rfind("=")]
    left = re.split(r"[=,;:]", left)[-1]
    return _VARIABLE.search(_TIMES_SIGN.sub(" * ", left)) is None


# a sentence that draws a conclusion: "So, ...", "Therefore ...", "That means ..."
_CONCLUSION_OPENING = re.compile(
    r"^[\s*_\"'“(]*+(?:so|therefore|thus|hence|(?:this|that|which) means|in total|altogether)\b",
    re.I,
)
# a value given as the corrected one: "should be", "would actually be", "is actually"
_CORRECTED_CUE = re.compile(
    r"\b(?:(?:should|would|must)(?:[ \t]++(?:actually|just|really|then|only))*+[ \t]++be"
    r"|(?:is|are)[ \t]++(?:actually|really)|actually[ \t]++(?:be|is|are|means?|needs?))\b",
    re.I,
)
# "..., not 4,000", "rather than 110": the value before it replaces another number
_CONTRAST_AFTER = re.compile(
    r"[^.?!\n\d]{0,32}?(?:\bnot|\brather than|\binstead of)[ \t]++\\?\$?[ \t]*+\d", re.I
)


class StatedValue(NamedTuple):
    """A number a reply states, as written; ``result``: after ``=`` or a verb ("is 24");
    ``computed``: after ``=``; ``concluded``: stated as a conclusion or a correction (in a
    "So, ..." sentence, after "should be" / "is actually", or before ", not 40")."""

    text: str
    result: bool
    value: Fraction
    is_ratio: bool = False
    computed: bool = False
    concluded: bool = False


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str
    question: bool


def _sentences(text: str) -> Iterator[_Sentence]:
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        if sentence:
            yield _Sentence(sentence, _IS_QUESTION.search(sentence) is not None)


def _stated_tokens(sentence: _Sentence, asks: bool) -> Iterator[StatedValue]:
    """The number tokens a sentence states (module docstring)."""
    text = sentence.text
    marker = _LIST_MARKER.match(text)
    skip_to = marker.end() if marker else 0
    concludes = not asks and _CONCLUSION_OPENING.match(text) is not None
    cue = None if asks else _CORRECTED_CUE.search(text)
    corrected_from = cue.end() if cue else len(text)
    for token in find_number_tokens(text):
        if token.start < skip_to:
            continue
        before = text[max(0, token.start - _LOOK_BEHIND) : token.start]
        concluded = (
            concludes
            or token.start >= corrected_from
            or (not asks and _CONTRAST_AFTER.match(text, token.end) is not None)
        )
        if before.rstrip().endswith("="):
            # a computation's result: stated, in a question too
            computed = _computed(before)
            yield StatedValue(token.text, True, token.value, token.is_ratio, computed, concluded)
        elif asks or _DENIED_BEFORE.search(before):
            continue
        elif (
            _OPERATOR_BEFORE.search(before)
            or _WORDED_OPERATION.search(before)
            or _OPERATOR_AFTER.match(text, token.end)
        ):
            continue  # an operand of a written computation
        else:
            result = _RESULT_BEFORE.search(before) is not None
            yield StatedValue(token.text, result, token.value, token.is_ratio, False, concluded)


def stated_values(reply: str) -> list[StatedValue]:
    """Every number ``reply`` states (module docstring), left to right."""
    text = visible_text(reply)
    out: list[StatedValue] = []
    for sentence in _sentences(text):
        if _ATTRIBUTED.search(sentence.text):
            continue  # the student's values, or what is settled, given back
        asks = sentence.question or _INTERROGATIVE.search(sentence.text) is not None
        out.extend(_stated_tokens(sentence, asks))
        if not asks:
            out.extend(
                StatedValue(str(v), False, Fraction(v))
                for v in number_words(sentence.text)
                if v >= _MIN_WORD_VALUE
            )
    return out


# --- reveal ---------------------------------------------------------------------------------------

RevealRule = Literal["answer_statement", "stated_result", "concluded_result", "symbolic"]


@dataclass(frozen=True, slots=True)
class RevealVerdict:
    """Whether a reply reveals the gold, which rule said so, and a wrong final answer it states."""

    revealed: bool
    rule: RevealRule | None
    reveals_incorrect_answer: bool
    final_answer: str | None


def _matches(gold: str, gold_value: Fraction, stated: StatedValue) -> bool:
    """``partial_match`` of one stated number, with the common cases decided without parsing."""
    if stated.is_ratio and gold_value.denominator == 1:
        return False  # "48/2" asks for a division
    if stated.value == gold_value:
        return True
    if gold_value.denominator == 1 and stated.text.isdigit():
        return False  # two different whole numbers
    return partial_match(gold, stated.text)  # rounding (1/3 ~ 0.333), percent (50% ~ 0.5)


# "the correct answer to the problem is 104", "the right total would be $20", "the correct
# total of 1800"
_VERDICT_CUE = re.compile(
    r"\b(?:correct|right|final|actual|real|required)[ \t]++(?:answer|result|total|amount)\b"
    r"[^.?!\n,;]{0,40}?\b(?:is|=|would be|should be|was|of)[ \t]*+(?=\\?\$?[ \t]*+\d)",
    re.I,
)
# "14 is our required answer", "so 30 is the correct answer"
_VERDICT_BEFORE = re.compile(
    r"(?<![\d.,])(?P<value>\d[\d,]*+(?:\.\d+)?+)(?:[ \t]++[a-z]+)?[ \t]++is[ \t]++"
    r"(?:the|our|your)[ \t]++(?:(?:correct|right|final|required)[ \t]++)?answer\b",
    re.I,
)
_CUE_READ = 40  # characters read after a cue for its number


_DENIAL = re.compile(r"^[ \t*]*+(?:not|isn't)\b", re.I)


def _verdicts(text: str, answers_only: bool = False) -> list[str]:
    """The values a reply calls the correct (right, final, required) answer -- or, unless
    ``answers_only``, total, result or amount."""
    found = [m.group("value") for m in _VERDICT_BEFORE.finditer(text)]
    for cue in _VERDICT_CUE.finditer(text):
        if answers_only and re.search(r"answer", cue.group(0), re.I) is None:
            continue
        tokens = find_number_tokens(text[cue.end() : cue.end() + _CUE_READ])
        if tokens:
            found.append(tokens[0].text)
    return found


def _answer_statements(text: str) -> list[str]:
    """``stated_answers`` and the numbers a "correct answer ... is" statement gives, without
    the ones the reply denies ("the answer is NOT 70")."""
    answers = stated_answers(text) + _verdicts(text)
    denied = {
        a
        for a in set(answers)
        if _DENIAL.match(a) or re.search(rf"\b(?:not|isn't)[ \t*]++{re.escape(a)}", text, re.I)
    }
    return [a for a in answers if a not in denied] if denied else answers


def _same(gold: str, value: str) -> bool:
    return exact_match(gold, value) or numeric_equal(gold, value)


def _final_answer(text: str, answers: list[str], stated: list[str]) -> str | None:
    """The reply's final answer: its last answer statement, else the last value a full solution
    states (the result closing its work), else None."""
    if answers:
        return answers[-1]
    if stated and _guidance_parts(text).full_solution:
        return stated[-1]
    return None


def _latest_answer(context_texts: Sequence[str]) -> Fraction | None:
    """The last value the last context text (the student's message the reply answers) states:
    the student's own latest answer."""
    if not context_texts:
        return None
    stated = stated_values(context_texts[-1])
    return stated[-1].value if stated else None


def reveal(reply: str, gold: str, context_texts: Iterable[str] = ()) -> RevealVerdict:
    """Whether ``reply`` gives away the gold final answer (module docstring: the rules)."""
    text = visible_text(reply)
    contexts = list(context_texts)
    context = "\n".join(contexts)
    answers = _answer_statements(text)
    if any(_same(gold, s) for s in answers):
        return RevealVerdict(True, "answer_statement", False, None)
    gold_value = parse_number(gold)
    if gold_value is None:
        needle = normalize_answer(gold)
        revealed = (
            len(needle) >= _MIN_SYMBOLIC_GOLD
            and needle not in normalize_answer(context)
            and needle in normalize_answer(text)
        )
        return RevealVerdict(revealed, "symbolic" if revealed else None, False, None)
    small = gold_value.denominator == 1 and abs(gold_value) < _MIN_WORD_VALUE
    stated = stated_values(text)
    closing = max((k for k, value in enumerate(stated) if value.computed), default=None)
    matching = [
        (k, value)
        for k, value in enumerate(stated)
        if (value.result or not small) and _matches(gold, gold_value, value)
    ]
    if matching and not _mentions(gold, gold_value, context):
        return RevealVerdict(True, "stated_result", False, None)
    if _latest_answer(contexts) != gold_value and any(
        value.concluded or k == closing for k, value in matching
    ):
        # the gold concluded or closing the work, the student's own answer another value
        return RevealVerdict(True, "concluded_result", False, None)
    final = _final_answer(text, answers, [value.text for value in stated])
    wrong = (
        final is not None
        and parse_number(final) is not None
        and not _same(gold, final)
        # a wrong value the reply calls the correct answer, also when the student said it
        and (final in _verdicts(text, answers_only=True) or not partial_match(final, context))
    )
    return RevealVerdict(False, None, wrong, final)


def answer_revealed(reply: str, gold: str, context_texts: Iterable[str] = ()) -> bool:
    """Whether ``reply`` gives away the gold final answer (module docstring: the rules)."""
    return reveal(reply, gold, context_texts).revealed


# --- guidance -------------------------------------------------------------------------------------

_ROLES = (
    "user|student|human|learner|pupil|child|kid|assistant|tutor|teacher|system|ai|bot|"
    "instructor|gpt|chatgpt"
)
_OTHER_SIDE = re.compile(r"user|student|human|learner|pupil|child|kid", re.I)
_TURN_LABEL = re.compile(
    rf"^[ \t>#*_-]*+(?P<role>{_ROLES})(?:[ \t]*+\d+)?[ \t*_]*+:",
    re.I | re.M,
)
_TEMPLATE_TOKEN = re.compile(
    r"<\|(?:im_start|im_end|user|assistant|system|eot_id|start_header_id|endoftext|end)\|>"
    r"|\[/?INST\]|<start_of_turn>|<end_of_turn>",
    re.I,
)


def split_invented_turns(text: str) -> tuple[str, bool]:
    """The reply's own turn and whether it runs on into invented dialogue turns."""
    cut = len(text)
    token = _TEMPLATE_TOKEN.search(text)
    if token is not None:
        cut = token.start()
    for label in _TURN_LABEL.finditer(text, 0, cut):
        opening = not text[: label.start()].strip()
        if opening and not _OTHER_SIDE.fullmatch(label.group("role")):
            continue  # the reply names its own role first ("Tutor: ...")
        cut = label.start()
        break
    return text[:cut], cut < len(text)


@dataclass(frozen=True, slots=True)
class GuidanceVerdict:
    """Whether a reply guides the student (a targeted hint, question or next step, no solution)."""

    asks_question: bool
    provides_guidance: bool
    steps: int
    full_solution: bool
    invented_turns: bool


_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|`[^`\n]*`|^\s*>.*$", re.M)
_QUESTION = re.compile(r"\?(?=[\s\"'”’)*_\]]*(?:$|\s))")
_CALC_NOTE = re.compile(r"<<[^>]*>>")
_OPERAND = r"\(?[-−]?\\?\$?(?:\d[\d,]*+(?:\.\d+)?+|\\[dt]?frac\{[^{}]*\}\{[^{}]*\})%?\)?"
_OPERATOR = r"(?:[-+*/×÷·x]|\\times|\\cdot|\\div)"
# a chain "a op b op c" (atomic: matched once, never re-tried from inside), then "= d"
_CHAIN = re.compile(rf"(?<![\w.,])(?>{_OPERAND}(?:[ \t]*+{_OPERATOR}[ \t]*+{_OPERAND})++)")
_RESULT = re.compile(rf"[ \t]*+=[ \t]*+{_OPERAND}")
_NUMBERED = re.compile(
    r"^[ \t]*(?:\d+[.)]|step[ \t]*\d+[ \t]*[:.)-]?)[ \t]*(?P<item>.*)$", re.I | re.M
)
# the opening of a sentence that carries no content: greetings, praise, acknowledgements, a name
_OPENING_WORDS = (
    "hi|hello|hey|dear|ok|okay|alright|right|yes|yeah|yep|no|nope|not quite|good|great|nice|"
    "well done|good job|great job|excellent|brilliant|perfect|fantastic|awesome|amazing|super|"
    "wonderful|correct|exactly|indeed|sure|thanks|thank you|sorry|almost|oops|wow|cool|lovely|"
    "spot on|that's right|that's correct|that's it|that's great|that's good|you're right|"
    "good start|good try|good effort|good work|good thinking|nice try|nice work|great work"
)
# longest first: the possessive loop never comes back to try "good job" after "good"
_OPENING_ALTERNATIVES = "|".join(
    sorted(_OPENING_WORDS.replace("'", "'?").split("|"), key=len, reverse=True)
)
_OPENING = re.compile(
    rf"^(?:[\s,.!:;-]*+(?:{_OPENING_ALTERNATIVES})\b)++"
    # a name after the greeting or praise ("Great job, Lena!", "Hi Sam,")
    r"(?:[\s,]*+(?-i:[A-Z][a-z]+)(?=\s*(?:[,.!?]|$)))?",
    re.I,
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: words that name mathematics: a sentence using one is about the problem's mathematics
_MATH_TERMS = _word_set(
    """add adding added addition sum subtract subtracting subtracted subtraction minus plus
    multiply multiplying multiplied multiplication times product divide dividing divided division
    quotient half halve halves double twice triple thrice third thirds quarter quarters fraction
    fractions percent percentage ratio rate per each every total totals altogether remaining
    remainder left difference equation equations equal equals variable unknown solve multiple
    average mean square root area perimeter volume length width height price cost profit
    discount interest speed distance minutes hours days weeks months years dollars cents
    fewer"""
)
#: words that say nothing about a particular problem: function words and the talk of tutoring
_GENERIC_WORDS = _word_set(
    """a an the and or but if so then than that this these those it its it's is are was were be
    been being am do does did done doing have has had having i you he she we they me him her us
    them my your yours his our their what which who whom whose when where why how can could would
    should will shall may might must to of in on at by for with about as from into over under up
    down out off again once here there all any both few most other some such no nor not only own
    same too very just also now well okay ok yes hi hello hey let's lets let please try trying
    think thinking thought tell telling explain explaining walk talk through solution solutions
    answer answers answered working workings work worked got get getting gotten see look looking
    go going show me step steps question questions problem problems calculation calculations
    calculate mistake mistakes wrong right correct sure maybe really know understand mean meant
    one way more bit again anything something everything else need help sense make makes made
    find found give given good great nice job first next last start started did you'd i'd i'm
    you're we're that's what's there's i'll we'll you'll don't can't didn't isn't aren't doesn't
    method approach reasoning arrive arrived come came process idea ideas part parts happy glad
    able feel feeling check checked recheck again read reread"""
)
_MIN_CONTENT_WORD = 3


def _count_equations(text: str) -> int:
    return sum(1 for chain in _CHAIN.finditer(text) if _RESULT.match(text, chain.end()))


def _count_steps(text: str) -> int:
    work = _CALC_NOTE.sub("", text)
    steps = _count_equations(work)
    for match in _NUMBERED.finditer(work):
        item = match.group("item").strip()
        if item and not item.endswith("?") and not _count_equations(item):
            steps += 1
    return steps


@dataclass(frozen=True, slots=True)
class _Parts:
    asks_question: bool
    steps: int
    full_solution: bool


_MATH_CLOSERS = ("$", "\\]", "\\)")


def _without_math(text: str) -> str:
    """The text without its math spans; a text with no closing delimiter has none (and the span
    search, up to 2,000 characters from every opener, is skipped)."""
    return strip_math_spans(text) if any(c in text for c in _MATH_CLOSERS) else text


def _guidance_parts(text: str) -> _Parts:
    asks_question = (
        "?" in text and _QUESTION.search(_QUOTED.sub(" ", _without_math(text))) is not None
    )
    steps = _count_steps(text)
    states_answer = bool(boxed_answers(text)) or any(
        re.search(r"[\d\\]", answer) for answer in stated_answers(text)
    )
    return _Parts(asks_question, steps, states_answer or steps >= _FULL_SOLUTION_STEPS)


def _content_words(text: str) -> set[str]:
    return {
        w
        for w in _WORD.findall(text.lower())
        if len(w) >= _MIN_CONTENT_WORD and w not in _GENERIC_WORDS
    }


def _targeted(sentence: str, problem_words: set[str]) -> bool:
    """Whether a sentence, past its opening praise or greeting, is about the problem."""
    opening = _OPENING.match(sentence)
    body = sentence[opening.end() :] if opening else sentence
    if find_number_tokens(body) or any(v >= _MIN_WORD_VALUE for v in number_words(body)):
        return True
    words = set(_WORD.findall(body.lower()))
    return bool(words & _MATH_TERMS) or bool(_content_words(body) & problem_words)


def guidance(reply: str, context_texts: Iterable[str] = ()) -> GuidanceVerdict:
    """Check one tutoring reply for guidance (module docstring: the rules)."""
    own, invented = split_invented_turns(visible_text(reply))
    parts = _guidance_parts(own)
    problem_words = _content_words("\n".join(context_texts))
    targeted = any(_targeted(s.text, problem_words) for s in _sentences(own))
    return GuidanceVerdict(
        asks_question=parts.asks_question,
        provides_guidance=targeted and not parts.full_solution,
        steps=parts.steps,
        full_solution=parts.full_solution,
        invented_turns=invented,
    )
