"""Numbers in answers: parse them exactly, compare them, and normalize answer strings.

Semantics (part of ``SCORER_VERSION``):

- Every number is parsed to a ``fractions.Fraction``: integers, terminating decimals, ``a/b``,
  ``\\frac{a}{b}`` (``\\dfrac``, ``\\tfrac``, ``\\frac12``), mixed numbers (``1 1/2``,
  ``2\\frac{1}{4}``), scientific notation (``1.5e6``, ``1.5 \\times 10^{6}``). Commas (``1,234``,
  ``1{,}234``, ``1,\\!234``), ``$``/``\\$``, ``\\text{}``, degrees and up to two unit words
  (``18 dollars``, ``5 cm``, ``5\\text{ cm}``, ``10 km/h``) are dropped.
- Two values that are both integers or terminating decimals compare exactly (168001 != 168000,
  18 == 18.0). A tolerance applies only when one side has no terminating decimal (1/3, 2/3):
  the other side then counts as equal when it is that value rounded or truncated to the decimal
  places it shows, shows at least one decimal place and at least two significant digits
  (1/3 ~ 0.33 ~ 0.333 ~ 0.3333; 2/3 ~ 0.67 ~ 0.667 ~ 0.666; 2/3 !~ 0.7; 100/3 !~ 33).
- A pure arithmetic expression (``3*3 + 2*2``, ``0.1 + 0.2``, ``\\frac{3}{4} \\times 8``,
  ``2^{10}``) is evaluated exactly (``ast`` over numbers and ``+ - * / ^`` only, bounded in
  length, digits and exponents; never ``eval``): 0.1 + 0.2 equals 0.3.
- Percent: a ``%`` sign is read as a unit, so ``parse_number("50%") == 50`` and 50% equals 50;
  when exactly one side carries ``%``, the value divided by 100 is accepted as well
  (50% equals 0.5). Without a ``%`` sign 50 and 0.5 differ.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from fractions import Fraction
from typing import NamedTuple

from tutorlab.scoring._latex import unwrap_commands

__all__ = [
    "NumberToken",
    "evaluate_arithmetic",
    "exact_match",
    "find_number_tokens",
    "normalize_answer",
    "numeric_equal",
    "parse_number",
    "partial_match",
]

# --- number tokens inside free text -------------------------------------------------------------

_SEP = r"(?:,|\{,\}|,\\!)"
_UINT = rf"(?:\d{{1,3}}(?:{_SEP}\d{{3}}(?!\d))+|\d+)"
_UDEC = rf"(?:{_UINT}(?:\.\d+)?|\.\d+)"
_BRACED = rf"\{{\s*[-−]?\s*{_UDEC}\s*\}}"
_FRAC = rf"\\[dt]?frac\s*(?:{_BRACED}|\d)\s*(?:{_BRACED}|\d)"
_SCI = (
    r"(?:[eE][-+]?\d+(?!\w)"
    r"|\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*(?:\{\s*[-−]?\d+\s*\}|[-−]?\d+))"
)
#: a token starts with one of ``\ $ - − .`` or a digit: the lookahead only rejects other
#: positions early (the same matches, ~40% less time than trying every optional prefix there)
_TOKEN = re.compile(
    rf"(?=[\\$\-−.\d])(?<![\w.])(?:\\?\$\s*)?[-−]?(?:\\?\$\s*)?"
    rf"(?:(?P<frac>{_FRAC})|{_UDEC}(?P<ratio>/{_UDEC})?{_SCI}?)"
    r"(?:\s*\\?%)?"
)


class NumberToken(NamedTuple):
    """A number written in free text (``text`` as written, ``value`` as parsed)."""

    text: str
    start: int
    end: int
    value: Fraction
    is_ratio: bool
    """Written as a division (``a/b`` or ``\\frac``), not a single number."""


def find_number_tokens(text: str) -> list[NumberToken]:
    """Every number in ``text``, left to right, whole tokens only (``180`` never yields ``18``).

    A leading ``-`` counts as a sign only where it cannot be a subtraction (``10-5`` gives 10, 5).
    """
    tokens = []
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        whole = _as_int(raw) if raw.isdigit() else None
        value = Fraction(whole) if whole is not None else parse_number(raw)
        if value is None:
            continue
        is_ratio = match.group("frac") is not None or match.group("ratio") is not None
        tokens.append(NumberToken(raw, match.start(), match.end(), value, is_ratio))
    return tokens


# --- parsing one answer --------------------------------------------------------------------------

_WRAPPERS = (
    "boxed",
    "fbox",
    "text",
    "textbf",
    "textit",
    "textrm",
    "textnormal",
    "mathrm",
    "mathbf",
    "mbox",
    "operatorname",
)
_REPLACEMENTS = (
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("{,}", ","),
    ("\\!", ""),
    ("\\,", " "),
    ("\\;", " "),
    ("\\:", " "),
    ("\\ ", " "),
    ("~", " "),
    ("\\left", ""),
    ("\\right", ""),
    ("\\%", "%"),
    ("\\$", ""),
    ("$", ""),
    ("\\(", ""),
    ("\\)", ""),
    ("\\[", ""),
    ("\\]", ""),
    ("**", ""),
    ("−", "-"),
    ("^{\\circ}", ""),
    ("^\\circ", ""),
    ("\\circ", ""),
    ("\\degree", ""),
    ("°", ""),
)
_EXPONENT = r"(?:\^\{?[23]\}?|[²³])?"
_UNIT_WORD = rf"[A-Za-z][A-Za-z.]*{_EXPONENT}"
_UNIT = rf"{_UNIT_WORD}(?:\s*(?:/|\s+per\s+)\s*{_UNIT_WORD})?(?:\s+{_UNIT_WORD})?"
#: words after a number that make the text more than "a number with a unit"
_NOT_UNITS = frozenset({"and", "or", "to", "plus", "minus", "times", "of", "over", "divided", "by"})
#: single letters after a number that are variables or constants, not units ("5x", "3i", "2e")
_VARIABLE_LETTERS = frozenset("abcdeijknpqrtuvwxyzABCDEIJKNPQRTUVWXYZ")
_DEC = r"(?:\d+(?:\.\d*)?|\.\d+)"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_NUMBER_RE = re.compile(
    rf"^(?P<sign>[-+])?\s*"
    rf"(?:(?P<whole>\d+)(?:\s+(?=\d+\s*/)|\s*(?=\\frac)))?"
    rf"(?:\\frac\s*(?:\{{\s*(?P<fn>[-+]?\s*{_DEC})\s*\}}|(?P<fn1>\d))"
    rf"\s*(?:\{{\s*(?P<fd>[-+]?\s*{_DEC})\s*\}}|(?P<fd1>\d))"
    rf"|(?P<num>{_GROUPED}|{_DEC})(?:\s*/\s*(?P<den>{_GROUPED}|{_DEC}))?"
    r"(?:[eE](?P<exp>[-+]?\d+)"
    r"|\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*\{?\s*(?P<exp10>[-+]?\d+)\s*\}?)?"
    r")"
    r"\s*(?P<pct>%)?"
    rf"\s*(?P<unit>{_UNIT})?\s*$"
)
_MAX_EXPONENT = 1000
_STRAY_BACKSLASH = re.compile(r"\\(?=\d)")


def _clean(text: str) -> str:
    text = unwrap_commands(text.strip(), _WRAPPERS)
    if not text.isdigit():
        for old, new in _REPLACEMENTS:
            if old in text:
                text = text.replace(old, new)
    text = text.strip().rstrip(".").strip()
    if "\\" in text:
        text = _STRAY_BACKSLASH.sub("", text)  # "\\15": a mangled "\\$15"
    # "x = 5" and "= 5": the value is the right-hand side
    return re.sub(r"^(?:[A-Za-z]\s*)?=\s*", "", text)


def _as_int(digits: str) -> int | None:
    """``int(digits)``, or None past Python's int-string limit (4,300 digits by default): such a
    "number" is no answer, and must not fail the scoring of the reply it is in."""
    try:
        return int(digits)
    except ValueError:
        return None


def _to_fraction(text: str) -> Fraction | None:
    text = text.replace(" ", "").replace(",", "")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


@functools.lru_cache(maxsize=16384, typed=True)
def _parse(text: str | int | float | Fraction | None) -> tuple[Fraction, bool] | None:
    """(value, written with a percent sign) or None. Memoized: golds and the number tokens of
    replies (``$18``, ``18.00``) repeat across a benchmark's items."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, Fraction | int):
        return Fraction(text), False
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")):
            return None
        return Fraction(repr(text)), False
    cleaned = _clean(text)
    match = _NUMBER_RE.match(cleaned)
    if match is None:
        value = evaluate_arithmetic(cleaned)
        return None if value is None else (value, False)
    unit = match.group("unit")
    if unit is not None:
        words = re.findall(r"[A-Za-z]+", unit)
        if any(w.lower() in _NOT_UNITS for w in words):
            return None
        if len(unit) == 1 and unit in _VARIABLE_LETTERS:
            return None
    if match.group("num") is not None:
        value = _to_fraction(match.group("num"))
        if match.group("den") is not None:
            den = _to_fraction(match.group("den"))
            if value is None or not den:
                return None
            value /= den
    else:
        num = _to_fraction(match.group("fn") or match.group("fn1"))
        den = _to_fraction(match.group("fd") or match.group("fd1"))
        if num is None or not den:
            return None
        value = num / den
    if value is None:
        return None
    exponent = match.group("exp") or match.group("exp10")
    if exponent is not None:
        power = _as_int(exponent)
        if power is None or abs(power) > _MAX_EXPONENT:
            return None
        value *= Fraction(10) ** power
    if match.group("whole") is not None:
        if value < 0:
            return None
        whole = _as_int(match.group("whole"))
        if whole is None:
            return None
        value += whole
    if match.group("sign") == "-":
        value = -value
    return value, match.group("pct") is not None


def parse_number(text: str | int | float | Fraction) -> Fraction | None:
    """The exact value of an answer that is a single number, or None.

    ``"$1,234.50"`` -> 2469/2, ``"\\frac{3}{4}"`` -> 3/4, ``"18 dollars"`` -> 18,
    ``"50%"`` -> 50 (a percent sign is a unit), ``"2x"`` / ``"5 and 6"`` / ``"\\sqrt{2}"`` -> None.
    """
    parsed = _parse(text)
    return None if parsed is None else parsed[0]


# --- arithmetic ----------------------------------------------------------------------------------

_ARITH_CHARS = re.compile(r"^[\d\s.+\-*/×÷·()^{}\\a-z−]+$")
_ARITH_OPERATOR = re.compile(r"\d\s*[-+*/×÷·^]|\\(?:times|cdot|div|frac)|[-−]\s*\(")
_ARITH_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_ARITH_WORDS = (
    ("\\left", ""),
    ("\\right", ""),
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("\\div", "/"),
    ("×", "*"),
    ("·", "*"),
    ("÷", "/"),
    ("−", "-"),
    ("^", "**"),
    ("{", "("),
    ("}", ")"),
)
_ARITH_MAX_CHARS = 200
_ARITH_MAX_NODES = 120
_ARITH_MAX_DIGITS = 400  # a result (or operand) longer than this is not an answer anyone wrote
_ARITH_MAX_POWER = 1000
_ARITH_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class _NotArithmetic(Exception):
    pass


def _digits(value: Fraction) -> int:
    return len(str(abs(value.numerator))) + len(str(value.denominator))


def _eval_node(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Fraction(node.value)
    if isinstance(node, ast.Constant) and type(node.value) is float:
        return Fraction(repr(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _eval_node(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH_OPS:
        left, right = _eval_node(node.left), _eval_node(node.right)
        if isinstance(node.op, ast.Add):
            result = left + right
        elif isinstance(node.op, ast.Sub):
            result = left - right
        elif isinstance(node.op, ast.Mult):
            result = left * right
        elif isinstance(node.op, ast.Div):
            if right == 0:
                raise _NotArithmetic
            result = left / right
        else:
            if right.denominator != 1 or (left == 0 and right < 0):
                raise _NotArithmetic  # roots are not exact rationals
            size = math.log10(max(abs(left.numerator), left.denominator, 2)) * abs(right)
            if size > _ARITH_MAX_DIGITS:
                raise _NotArithmetic
            result = left ** int(right)
        if _digits(result) > _ARITH_MAX_DIGITS:
            raise _NotArithmetic
        return result
    raise _NotArithmetic


@functools.lru_cache(maxsize=4096)
def evaluate_arithmetic(text: str) -> Fraction | None:
    """The exact value of a pure arithmetic expression, or None.

    Numbers with ``+ - * / ^`` (also ``\\times \\cdot \\div × ÷``), parentheses or braces, and
    ``\\frac{a}{b}`` of such; at least one operator. Nothing else (no variables, functions,
    implicit products, roots): ``3*3 + 2*2`` -> 13, ``2^{10}`` -> 1024, ``2x + 1`` -> None.
    Bounded: at most 200 characters and 120 syntax nodes, no value past 400 digits.
    """
    text = text.strip().rstrip(".").strip()
    if not text or len(text) > _ARITH_MAX_CHARS or not _ARITH_CHARS.match(text):
        return None
    if not _ARITH_OPERATOR.search(text):
        return None
    for _ in range(8):  # nested \\frac, innermost first
        replaced = _ARITH_FRAC.sub(r"((\1)/(\2))", text)
        if replaced == text:
            break
        text = replaced
    for old, new in _ARITH_WORDS:
        text = text.replace(old, new)
    if re.search(r"[a-z\\]", text):
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        return None
    if sum(1 for _ in ast.walk(tree)) > _ARITH_MAX_NODES:
        return None
    try:
        return _eval_node(tree.body)
    except (_NotArithmetic, RecursionError, ValueError, ZeroDivisionError, OverflowError):
        return None


# --- comparing ------------------------------------------------------------------------------------


def _terminates(value: Fraction) -> bool:
    den = value.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


def _decimal_places(value: Fraction) -> int:
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return places


def _close(a: Fraction, b: Fraction) -> bool:
    if a == b:
        return True
    a_ends, b_ends = _terminates(a), _terminates(b)
    if a_ends == b_ends:
        return False  # both exact decimals (compare exactly) or both repeating (exact as fractions)
    exact, approx = (a, b) if b_ends else (b, a)
    places = _decimal_places(approx)
    if places == 0:
        return False
    significant = len(str(abs(approx.numerator * 10**places // approx.denominator)))
    if significant < 2:
        return False
    return abs(exact - approx) < Fraction(1, 10**places)


def numeric_equal(
    gold: str | int | float | Fraction, pred: str | int | float | Fraction | None
) -> bool:
    """Whether both sides parse as numbers with the same value (module docstring: semantics).

    A missing prediction (None) is never equal.
    """
    g, p = _parse(gold), _parse(pred)
    return g is not None and p is not None and _equal(g, p)


def _equal(gold: tuple[Fraction, bool], pred: tuple[Fraction, bool]) -> bool:
    (g_value, g_pct), (p_value, p_pct) = gold, pred
    if _close(g_value, p_value):
        return True
    if g_pct and not p_pct:
        return _close(g_value / 100, p_value)
    if p_pct and not g_pct:
        return _close(g_value, p_value / 100)
    return False


# --- string equality -----------------------------------------------------------------------------

_NORMALIZE = (
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\left", ""),
    ("\\right", ""),
    ("{,}", ","),
    ("\\!", ""),
    ("\\,", ""),
    ("\\;", ""),
    ("\\:", ""),
    ("\\quad", ""),
    ("\\ ", ""),
    ("~", ""),
    ("^{\\circ}", ""),
    ("^\\circ", ""),
    ("\\circ", ""),
    ("\\degree", ""),
    ("°", ""),
    ("\\%", ""),
    ("%", ""),
    ("\\$", ""),
    ("$", ""),
    ("\\(", ""),
    ("\\)", ""),
    ("\\[", ""),
    ("\\]", ""),
    ("**", ""),
    ("−", "-"),
)


def normalize_answer(text: str) -> str:
    """An answer string reduced for string comparison.

    Drops ``\\boxed{}``/``\\text{}``-style wrappers, ``$``, ``\\left``/``\\right``, LaTeX spacing,
    degrees, ``%``, markdown bold, all whitespace and trailing periods; ``\\dfrac`` -> ``\\frac``.
    """
    text = unwrap_commands(text, _WRAPPERS)
    for old, new in _NORMALIZE:
        text = text.replace(old, new)
    text = re.sub(r"\s+", "", text)
    return text.rstrip(".")


def exact_match(gold: str, pred: str | None) -> bool:
    """Normalized string equality (``normalize_answer``); an empty prediction never matches."""
    if pred is None:
        return False
    normalized = normalize_answer(pred)
    return normalized != "" and normalized == normalize_answer(gold)


def partial_match(gold: str, response_text: str) -> bool:
    """Whether the gold answer appears anywhere in ``response_text``.

    A numeric gold must appear as a whole number token with an equal value (``18`` matches
    ``$18.00`` but not ``180``); a division written out (``48/2``) does not count for an integer
    gold. A non-numeric gold must appear in the normalized text.
    """
    parsed = _parse(gold)
    if parsed is None:
        needle = normalize_answer(gold)
        return needle != "" and needle in normalize_answer(response_text)
    value, percent = parsed
    integer_gold = value.denominator == 1
    # a whole-number gold without % against a token of plain digits: the verdict of ``_equal``,
    # compared as ints (most tokens of a reply are plain digits; no Fraction for each)
    plain = integer_gold and not percent
    # any order gives the same answer; from the end, a reply's final answer is checked first
    for match in reversed(list(_TOKEN.finditer(response_text))):
        raw = match.group(0)
        token: tuple[Fraction, bool] | None
        if raw.isdigit():
            if plain:
                if _as_int(raw) == value:
                    return True
                continue
            number = _as_int(raw)
            token = None if number is None else (Fraction(number), False)
        else:
            if integer_gold and (match.group("frac") or match.group("ratio")):
                continue
            token = _parse(raw)
            if token is not None:
                token = (token[0], "%" in raw)
        if token is not None and _equal(parsed, token):
            return True
    return False
