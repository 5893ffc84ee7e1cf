"""Final-answer extraction from a model response, by a cascade of rules.

The first rule that yields an answer wins (part of ``SCORER_VERSION``); the rule is recorded:

1. ``boxed``: the last ``\\boxed{...}`` or ``\\fbox{...}`` (balanced braces, ``\\boxed 5`` form);
2. ``hash``: the last ``#### N`` line (GSM8K style);
3. ``final_answer``: the last "final answer is ..." / "Final Answer: ...";
4. ``answer_is``: the last "answer is ..." / "answer: ..." / "answer would be ...";
5. ``expression``: the whole reply is one expression (``6x - 5``, ``$\\frac{3}{5}$``, ``x = 4``);

and, when the reply states no answer, the fallbacks (``FALLBACK_RULES``; results report accuracy
with and without them):

6. ``last_expression`` / ``last_number``: the last math span or number of the closing sentence
   (the last of the final three lines that holds one), a math span kept whole
   (``\\(\\frac{8\\pi}{5}\\)``, ``\\[x^2+y^2=13\\]``); else ``last_number``: the last
   answer-like number of the reply's end (``$1,234.50``, ``-5``, ``3/4``, ``50%``, ``1.5e6``);
7. ``final_text`` (only for a non-numeric gold: ``odd``, ``(C)``, ``yes``): the closing sentence,
   compared as text, never a number in it.

A number is no answer candidate when it belongs to an algebraic term (``w-8``, ``x(x-1)``,
``2x``, an exponent), numbers a list item (``1.``, ``Step 3:``), sits in code (fenced or
``inline``), a quotation or a ``>`` block, or a sentence that quotes the problem word for word
(when the problem is known). An equation or computation as the answer
(``3*3 + 2*2 = 13``) is compared by the value after its last ``=`` (``verdicts``).

A reply that states a numeric answer and then a different one after it ("#### 18 ... The answer
is 20", "\\boxed{18} ... Final answer: 20") is contradictory: ``Extraction.conflict`` holds the
other value, and the verdict is not correct.

A Qwen3 ``<think>...</think>`` block is removed first: nothing is extracted from reasoning. Only
the last ``SCAN_CAP`` characters of the visible reply are read (answers close a reply), so a
degenerate reply costs linear time. After a cue (rules 2-4) the answer is the math span that
follows (``$\\frac{1}{2}$``), else the number that follows when it stands alone (``$18.`` ->
``$18``, ``**18** dollars`` -> ``18``), else the rest of the sentence when it looks like an answer
(it holds a digit or LaTeX, or is at most three words: ``Evelyn``) - the last number of that
sentence when it is prose ("Verna received $7.00 in change" -> ``$7.00``); otherwise the cue is
skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from tutorlab.scoring._latex import command_arguments, math_spans, unwrap_commands
from tutorlab.scoring.numeric import (
    _TOKEN,
    exact_match,
    numeric_equal,
    parse_number,
)

__all__ = [
    "FALLBACK_RULES",
    "SCAN_CAP",
    "Extraction",
    "ExtractionRule",
    "boxed_answers",
    "extract_answer",
    "stated_answers",
    "strip_thinking",
]

ExtractionRule = Literal[
    "boxed",
    "hash",
    "final_answer",
    "answer_is",
    "expression",
    "last_expression",
    "last_number",
    "final_text",
]
#: rules that guess the answer from where the reply ends, not from a statement of it
FALLBACK_RULES: frozenset[str] = frozenset({"last_expression", "last_number", "final_text"})
#: characters read from the end of the visible reply
SCAN_CAP = 100_000


@dataclass(frozen=True, slots=True)
class Extraction:
    """The extracted answer (None when no rule fired), the rule that produced it, and a
    different value the reply states after it (``conflict``: the reply is contradictory)."""

    value: str | None
    rule: ExtractionRule | None
    conflict: str | None = None


_NO_ANSWER = Extraction(None, None)
_OPEN, _CLOSE = "<think>", "</think>"
_BOXES = ("boxed", "fbox")
_HASH = re.compile(r"####[ \t]*")
_FINAL = re.compile(r"final\s+answer\s*(?:\*\*)?\s*(?:is\b|:|=)(?:\s*\*\*)?\s*:?", re.IGNORECASE)
_ANSWER = re.compile(
    r"\banswer\s*(?:\*\*)?\s*(?:is\b|:|=|would\s+be\b|should\s+be\b)(?:\s*\*\*)?\s*:?",
    re.IGNORECASE,
)
_CUES: tuple[tuple[ExtractionRule, re.Pattern[str]], ...] = (
    ("hash", _HASH),
    ("final_answer", _FINAL),
    ("answer_is", _ANSWER),
)
_FILLER = re.compile(
    r"^(?:\s|[:=*]|(?:approximately|about|roughly|around|exactly|just|simply)\b|≈|~)+",
    re.IGNORECASE,
)
#: what may follow a number for it to stand alone (not "2\sqrt{3}", "2x", "5 + 3", "3^2")
_CONTINUES = re.compile(r"^(?:[\\^_({\[]|\s*[\\^_]|[A-Za-z]|\s*[-+*/=×÷·<>]\s*[\w\\(])")
_SENTENCE_END = re.compile(r"\.(?=\s|$)|[;!?\n]")
_MAX_WORDS = 3
_CUE_WINDOW = 400  # characters read after a cue
_CUES_READ = 8  # statements read per cue, from the end (a reply of thousands of cues is linear)
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")


def strip_thinking(text: str) -> str:
    """The response without its ``<think>...</think>`` reasoning.

    A lone ``</think>`` (the opening tag was in the prompt) drops everything before it; an
    unclosed ``<think>`` (truncated reasoning) drops everything after it.
    """
    kept, pos = [], 0
    while (start := text.find(_OPEN, pos)) != -1:
        kept.append(text[pos:start])
        end = text.find(_CLOSE, start)
        if end == -1:
            pos = len(text)
            break
        pos = end + len(_CLOSE)
    kept.append(text[pos:])
    visible = "".join(kept)
    if _CLOSE in visible:
        visible = visible.rsplit(_CLOSE, 1)[1]
    return visible.strip()


def _tidy(value: str) -> str:
    value = value.replace("**", "").strip()
    while value.endswith((".", ",")) and not value.endswith("\\."):
        value = value[:-1].rstrip()
    return value


def boxed_answers(text: str) -> list[str]:
    """Contents of every ``\\boxed{}`` / ``\\fbox{}``, left to right (empty boxes skipped)."""
    answers = []
    for _, _, content in command_arguments(text, _BOXES):
        value = _tidy(unwrap_commands(content, _BOXES))
        if value:
            answers.append(value)
    return answers


def _looks_like_answer(clause: str) -> bool:
    if not clause:
        return False
    if re.search(r"[\d\\^=]", clause):
        return True
    return len(clause.split()) <= _MAX_WORDS


def _answer_after_cue(rest: str) -> str | None:
    """The answer at the start of ``rest`` (the text right after a cue), or None."""
    rest = rest.replace("**", "")
    filler = _FILLER.match(rest)
    if filler is not None:
        rest = rest[filler.end() :]
    paragraph = rest.split("\n\n", 1)[0]
    spans = math_spans(paragraph)
    if spans and spans[0][0] == 0:
        value = _tidy(spans[0][2])
        return value or None
    token = _TOKEN.match(paragraph)
    if token is not None:
        after = paragraph[token.end() :]
        if after.lstrip().startswith("?"):
            return None  # "Your answer is 12?" asks, it does not state
        if not _CONTINUES.match(after):
            return token.group(0).strip()
    end = _SENTENCE_END.search(paragraph)
    clause = _tidy(paragraph[: end.start()] if end else paragraph)
    clause = clause.strip("\"'“”` ")
    if not _looks_like_answer(clause):
        return None
    if len(_PROSE_WORD.findall(clause)) >= 2:
        # a sentence, not an expression: "Verna received $7.00 in change" states $7.00
        numbers = [t for t in _TOKEN.finditer(clause) if _is_candidate(clause, t)]
        if numbers:
            return _tidy(numbers[-1].group())
    return clause


def _cue_answers(text: str, cue: re.Pattern[str], *, last_only: bool = False) -> dict[int, str]:
    """Answers after each cue (or only the last one), keyed by where the answer text starts.

    Only the last ``_CUES_READ`` cues are read: a reply's statements of its answer are few."""
    answers: dict[int, str] = {}
    matches = list(cue.finditer(text))[-_CUES_READ:]
    for match in reversed(matches) if last_only else matches:
        if last_only and answers:
            break
        rest = text[match.end() : match.end() + _CUE_WINDOW]
        value = _answer_after_cue(rest)
        if value is not None:
            answers[match.end() + len(rest) - len(rest.lstrip(" :*\t"))] = value
    return answers


# --- answer candidates --------------------------------------------------------------------------

#: a coefficient or a term that goes on with a variable: "2x", "3y^2", "8 w" is not caught
_BEFORE_VARIABLE = re.compile(r"[A-Za-z](?![A-Za-z])|\s*[-+*/]\s*[A-Za-z](?![A-Za-z])")
_LIST_MARKER = re.compile(r"(?:^|\n)[ \t>*#-]*(?:\(?)$")
_STEP_WORDS = frozenset({"step", "case", "part", "option", "item", "line", "no.", "#"})
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]{1,200}`", re.S)
_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|(?:^|\n)>[^\n]*")


def _after_variable(text: str, start: int) -> bool:
    """Whether the number at ``start`` follows a variable and an operator (``w-8``, ``x(x-1)``)
    or is an exponent or index (``x^2``, ``a_{1}``). Character tests: this runs per number."""
    j = start - 1
    while j >= 0 and start - j <= 12 and text[j] in " \t{":
        j -= 1
    if j < 0:
        return False
    if text[j] in "^_<>≤≥":
        return True  # an exponent, an index, the other side of a comparison
    if text[j] not in "-+*/(":
        return False
    k = j - 1
    while k >= 0 and text[k] in " \t":
        k -= 1
    if k < 0 or not (text[k].isascii() and text[k].isalpha()):
        return False
    return k == 0 or not (text[k - 1].isalpha() or text[k - 1] == "\\")


def _is_candidate(text: str, token: re.Match[str]) -> bool:
    """Whether a number token (a ``_TOKEN`` match) of ``text`` can be a stated answer."""
    start, end = token.span()
    if _after_variable(text, start) and not token.group().startswith(("$", "\\$")):
        return False
    after = text[end : end + 3]
    if after and _BEFORE_VARIABLE.match(after) and not after.startswith(("e", "E")):
        return False
    tail = after[:2]
    before = text[max(0, start - 12) : start]
    if (
        tail.startswith((". ", ") ", ".\t", ")\t", ".\n", ")\n")) or tail in (".", ")")
    ) and _LIST_MARKER.search(before):
        return False  # "1. First", "2) then"
    if tail[:1] not in (":", ".", ")", " ", ""):
        return True
    words = before.lower().split()
    return not (words and words[-1] in _STEP_WORDS and before[-1:].isspace())


def _excluded_spans(text: str) -> list[tuple[int, int]]:
    """Code and quotations: no answer candidate is read inside them."""
    quotes = '"' in text or "“" in text or "\n>" in text or text.startswith(">")
    if "`" not in text and not quotes:
        return []
    spans = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    spans += [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    return spans


def _blank(text: str) -> str:
    """``text`` with code and quotations blanked out (lines kept)."""
    spans = _excluded_spans(text)
    if not spans:
        return text
    kept, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            start = pos
        kept.append(text[pos:start])
        kept.append(_NOT_NEWLINE.sub(" ", text[start:end]))
        pos = max(pos, end)
    kept.append(text[pos:])
    return "".join(kept)


_NOT_NEWLINE = re.compile(r"[^\n]")


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _money(text: str, end: int, content: str) -> bool:
    """A "span" between two dollar signs that is money: "$15*13=$195", "$5 per 10 minutes ... $"."""
    if text[end - 1 : end] != "$" or text[end - 2 : end] == "$$":
        return False
    return content.endswith(("=", "+", "-", "*", "/", "x")) or text[end : end + 1].isdigit()


def _candidates(text: str) -> list[tuple[int, str, bool]]:
    """Answer candidates of ``text`` left to right: ``(start, text, is_math_span)``."""
    found: list[tuple[int, str, bool]] = []
    spans = math_spans(text) if "$" in text or "\\" in text else []
    kept = []
    for start, end, content in spans:
        value = _tidy(content)
        if _MEANINGFUL.search(value) and not _money(text, end, value):
            found.append((start, value, True))
            kept.append((start, end))
    for token in _TOKEN.finditer(text):
        if kept and any(s <= token.start() < e for s, e in kept):
            continue
        if _is_candidate(text, token) and parse_number(token.group()) is not None:
            found.append((token.start(), _tidy(token.group()), False))
    if spans:
        found.sort()
    return found


#: a math span worth reading as an answer: it has a digit or a command, not just "x" or "Q"
_MEANINGFUL = re.compile(r"\d|\\[A-Za-z]")
_LINE_WINDOW = 3  # closing lines read for the closing sentence
_FALLBACK_WINDOW = 4_000  # characters read back for the last number
_LINE_CAP = 1_000  # characters of a closing line read


_WORDS = re.compile(r"[a-z0-9]+")
_QUOTE_WORDS = 6  # a closing sentence that repeats this many words of the problem in a row


@lru_cache(maxsize=2048)
def _problem_words(problem: str) -> str:
    return " " + " ".join(_WORDS.findall(problem.lower())) + " "


def _restates(sentence: str, problem: str | None) -> bool:
    """Whether ``sentence`` quotes the problem (its data, not a result): it is, word for word,
    part of the problem's text, and long enough to be a quotation."""
    if not problem:
        return False
    words = _WORDS.findall(sentence.lower())
    if len(words) < _QUOTE_WORDS:
        return False
    return " " + " ".join(words) + " " in _problem_words(problem[: _FALLBACK_WINDOW * 4])


_PREPOSITION = re.compile(r"\b(?:in|for|after|over|per|every|within|each)\s+\$?$", re.IGNORECASE)
_LEAD = r"\s*(?:(?:about|approximately|exactly|only|just|now|left)\s+)?(?:\\?\$|\\\(|\$)?\s*$"
#: how a sentence states its result, strongest first: "= 8", "is 8"; then "of 2", "to 33%"
_STATES = (
    re.compile(r"(?:\b(?:is|are|was|were|equals?|be)|=)" + _LEAD, re.IGNORECASE),
    re.compile(r"(?:\b(?:of|at|to)|:)" + _LEAD, re.IGNORECASE),
)
_NEGATED = re.compile(r"\b(?:not|no|never|neither|nor|cannot)\b|n't\b", re.IGNORECASE)
#: a sentence that denies a value is the answer ("x = 14 is not a solution"); "40 girls are not
#: in the scouts" states a count and is read
_DENIES_ANSWER = re.compile(
    r"\b(?:not|isn't|aren't|cannot\s+be)\s+(?:a\s+|the\s+|an\s+)?"
    r"(?:valid\s+|correct\s+|possible\s+)?"
    r"(?:solution|answer|correct|valid|possible|equal|true|right)\b|\bno\s+(?:solution|answer)",
    re.IGNORECASE,
)


def _pick(sentence: str, found: list[tuple[int, str, bool]]) -> tuple[str, bool]:
    """The last candidate, passing over numbers in a closing phrase ("... in 4 weeks") when
    another is there."""
    if len(found) > 1:
        fresh = [
            c for c in found if c[2] or not _PREPOSITION.search(sentence[max(0, c[0] - 12) : c[0]])
        ]
        if fresh:
            found = fresh
        # "a speed of 2 mph for the remaining 6 miles", "40/5 = 8 rows of 5": the value the
        # sentence states (a math span is kept whole instead)
        if not any(c[2] for c in found):
            for states in _STATES:
                stated = [c for c in found if states.search(sentence[max(0, c[0] - 24) : c[0]])]
                if stated:
                    found = stated
                    break
    _, value, is_span = found[-1]
    return value, is_span


def _closing(text: str, problem: str | None) -> tuple[str | None, bool, str]:
    """The closing sentence's answer candidate: ``(value, is_math_span, sentence)``."""
    window = _blank(text[-_FALLBACK_WINDOW:])
    lines = [line for line in window.split("\n") if line.strip()]
    last_sentence = ""
    for line in reversed(lines[-_LINE_WINDOW:]):
        line = line[-_LINE_CAP:]
        masked = _SPAN_MASK.sub(lambda m: "x" * len(m.group(0)), line)
        ends = [m.end() for m in _CLOSING_END.finditer(masked)]
        starts = [0, *ends]
        sentences = [line[a:b] for a, b in zip(starts, [*ends, len(line)], strict=True)]
        for sentence in reversed([s for s in sentences if s.strip()]):
            last_sentence = last_sentence or sentence.strip()
            if _DENIES_ANSWER.search(_SPAN_MASK.sub(" ", sentence)) or _restates(sentence, problem):
                continue  # "x = 14 is not a solution", the problem quoted: no answer stated
            found = _candidates(sentence)
            if found:
                value, is_span = _pick(sentence, found)
                return value, is_span, sentence.strip()
    return None, False, last_sentence


def _last_sentence(text: str) -> str:
    lines = [line for line in text[-_FALLBACK_WINDOW:].split("\n") if line.strip()]
    if not lines:
        return ""
    line = lines[-1][-_LINE_CAP:]
    masked = _SPAN_MASK.sub(lambda m: "x" * len(m.group(0)), line)
    ends = [m.end() for m in _CLOSING_END.finditer(masked)]
    return line[ends[-1] :].strip() if ends else line.strip()


_SPAN_MASK = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\\(.*?\\\)|\$[^$]+\$")
_CLOSING_END = re.compile(
    r"[.!?](?=\s+[A-Z])|\s(?=(?:Therefore|Thus|Hence|So|Finally|In conclusion)\b)"
)
_EXPRESSION_MAX = 120
_FUNCTIONS = frozenset(
    {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "pi", "sqrt", "mod"}
)
_WORD = re.compile(r"\\?[A-Za-z]+")
_WRAP = re.compile(r"^(?:\$\$|\$|\\\(|\\\[)(.*?)(?:\$\$|\$|\\\)|\\\])$", re.S)


def _as_expression(text: str) -> str | None:
    """The reply itself when it is one expression: ``6x - 5``, ``$\\frac{3}{5}$``, ``x = 4``."""
    value = _tidy(text)
    if not value or len(value) > _EXPRESSION_MAX or "\n" in value:
        return None
    wrapped = _WRAP.match(value)
    if wrapped is not None:
        value = _tidy(wrapped.group(1))
    if not value or not re.search(r"[\dA-Za-z]", value):
        return None
    for word in _WORD.findall(value):
        if word.startswith("\\") or len(word) == 1 or word.lower() in _FUNCTIONS:
            continue
        return None  # a word: prose, not an expression
    if re.search(r"[A-Za-z]\s+[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", value)):
        return None  # "a b": words of one letter, not a product
    return value


def _same_value(a: str, b: str) -> bool:
    """Whether two stated numeric answers agree (both must parse as numbers to disagree)."""
    if exact_match(a, b) or numeric_equal(a, b):
        return True
    return parse_number(a) is None or parse_number(b) is None


def _statements(text: str) -> list[tuple[int, str, ExtractionRule]]:
    """Every statement of an answer with where it starts: boxes and cue answers."""
    found: list[tuple[int, str, ExtractionRule]] = []
    for start, _, content in command_arguments(text, _BOXES):
        value = _tidy(unwrap_commands(content, _BOXES))
        if value:
            found.append((start, value, "boxed"))
    for rule, cue in _CUES:
        found.extend((start, value, rule) for start, value in _cue_answers(text, cue).items())
    return found


def _stated(text: str) -> tuple[int, str, ExtractionRule] | None:
    """The answer the reply states, by the cascade: ``(where it ends, value, rule)``."""
    boxes = [
        (end, value)
        for _, end, content in command_arguments(text, _BOXES)
        if (value := _tidy(unwrap_commands(content, _BOXES)))
    ]
    if boxes:
        end, value = boxes[-1]
        return end, value, "boxed"
    for rule, cue in _CUES:
        answers = _cue_answers(text, cue, last_only=True)
        if answers:
            start = max(answers)
            return start + 1, answers[start], rule
    return None


def _conflict(after: str, value: str) -> str | None:
    """A value stated in ``after`` (the text after the answer) that disagrees with it."""
    if "answer" not in after.lower() and "#" not in after and "\\" not in after:
        return None
    for _, other, _ in sorted(_statements(after)):
        if not _same_value(value, other):
            return other
    return None


def extract_answer(
    response: str,
    *,
    problem: str | None = None,
    numeric_gold: bool = True,
    text_gold: bool = False,
) -> Extraction:
    """The final answer of ``response`` by the rule cascade in the module docstring.

    ``problem``: the problem's text; a closing sentence that quotes it is passed over.
    ``numeric_gold=False`` (the gold is no number): the fallback is a math span of the closing
    sentence, else that sentence as text, never a number in it; ``text_gold`` (the gold is a
    word or a choice: ``odd``, ``(C)``): it is that sentence.
    """
    text = strip_thinking(response)
    if len(text) > SCAN_CAP:
        text = text[-SCAN_CAP:]
    stated = _stated(text)
    if stated is not None:
        end, value, rule = stated
        return Extraction(value, rule, _conflict(text[end:], value))
    expression = _as_expression(text)
    if expression is not None:
        return Extraction(expression, "expression")
    closing, is_span, sentence = _closing(text, problem)
    if text_gold:
        sentence = _last_sentence(text)
        return Extraction(_tidy(sentence), "final_text") if sentence else _NO_ANSWER
    if closing is not None and is_span:
        return Extraction(closing, "last_expression")
    if closing is not None and numeric_gold:
        return Extraction(closing, "last_number")
    if not numeric_gold:
        # mathematics in words ("I could not finish") is no answer to check
        if sentence and _MEANINGFUL.search(sentence):
            return Extraction(_tidy(sentence), "final_text")
        return _NO_ANSWER
    tail = _blank(text[-_FALLBACK_WINDOW:])
    for token in reversed(list(_TOKEN.finditer(tail))):
        if _is_candidate(tail, token) and parse_number(token.group()) is not None:
            return Extraction(_tidy(token.group()), "last_number")
    return _NO_ANSWER


def stated_answers(text: str) -> list[str]:
    """Every answer the text states outright: boxed, ``####``, "final answer"/"answer is".

    The last-number rule is not used: a number in passing is not a statement of the answer.
    """
    text = strip_thinking(text)
    stated: dict[int, str] = {}
    for _, cue in _CUES:
        stated.update(_cue_answers(text, cue))  # "Final answer: 5" is one statement, not two
    return boxed_answers(text) + [stated[start] for start in sorted(stated)]
