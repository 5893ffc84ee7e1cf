"""Final answers: how they are written, how a wrong one is made, and simple arithmetic."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from tutorlab_sim.draws import stable_hash

STYLES: tuple[str, ...] = ("boxed", "hash", "answer_is")

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_INT = re.compile(r"\d+")
_OPTION = re.compile(r"^(\\text\{)?\(?([A-Ea-e])\)?(\})?$")
_PLACES = Decimal("0.000001")
_SWAPS: dict[str, str] = {"odd": "even", "even": "odd", "neither": "odd"}
_TEXT_WORD = re.compile(r"^\\(?:text|mbox)\{\s*(\w+)\s*\}$")


def style_for(style: str, item_id: str) -> str:
    """The concrete style: ``mixed`` picks one per question, the same every time."""
    if style == "mixed":
        return STYLES[stable_hash("style", item_id) % len(STYLES)]
    return style


def final_line(answer: str, style: str) -> str:
    """The line that states the final answer in ``style`` (boxed, hash or answer_is).

    Outside ``\\boxed{}``, LaTeX answers (not plain numbers, no ``\\$``) go in ``$…$`` so that
    extractors read them as one span.
    """
    if style != "boxed" and not _NUMBER.fullmatch(answer) and "\\$" not in answer:
        answer = f"${answer}$"
    if style == "hash":
        return f"#### {answer}"
    if style == "answer_is":
        return f"The answer is {answer}."
    return f"The final answer is \\boxed{{{answer}}}."


def format_number(value: Decimal | Fraction | int) -> str:
    """A number without float noise: integers stay integers, others in plain decimal."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        value = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(_PLACES)
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def wrong_answer(gold: str, item_id: str) -> str:
    """An answer that no grader will judge equal to ``gold`` (same choice every time)."""
    gold = gold.strip()
    pick = stable_hash("wrong", item_id) % 2
    if _NUMBER.fullmatch(gold):
        value = int(gold) if "." not in gold else Decimal(gold)
        wrong = value * 2 if pick and value != 0 else value + 1
        return format_number(wrong)
    option = _OPTION.match(gold)
    if option:
        letter = option.group(2)
        nxt = chr((ord(letter.upper()) - ord("A") + 1) % 5 + ord("A"))
        nxt = nxt if letter.isupper() else nxt.lower()
        return gold[: option.start(2)] + nxt + gold[option.end(2) :]
    word = _TEXT_WORD.match(gold)
    if word and word.group(1).lower() in _SWAPS:
        return f"\\text{{{_SWAPS[word.group(1).lower()]}}}"
    first = _INT.search(gold)
    if first:
        # the first integer + 1; a factorial-sized value barely moves that way (graders compare
        # with a tolerance), so it also gets 1 added in front
        bumped = gold[: first.start()] + str(int(first.group()) + 1) + gold[first.end() :]
        return f"1+{bumped}" if "!" in gold else bumped
    if "infty" in gold:
        return "0"
    return f"{gold}+1"


_OPS: dict[type, Callable[..., object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_EXPRESSION = re.compile(r"[\d(][\d\s.+\-*/×÷()]*[\d)]")
_HAS_OP = re.compile(r"\d\s*[+\-*/×÷]\s*[\d(]|\)\s*[+\-*/×÷]")
MAX_EXPRESSION_CHARS = 80


def _evaluate(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Fraction(str(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        result = _OPS[type(node.op)](left, right)
        assert isinstance(result, Fraction)
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        result = _OPS[type(node.op)](_evaluate(node.operand))
        assert isinstance(result, Fraction)
        return result
    raise ValueError("not plain arithmetic")


def find_arithmetic(text: str) -> tuple[str, str] | None:
    """The first plain arithmetic expression in ``text`` (``2+3``, ``(4 × 5) - 1``) and its
    value as text, or None. Only + - * / and parentheses; no powers, no variables."""
    for match in _EXPRESSION.finditer(text):
        expression = match.group().strip()
        if len(expression) > MAX_EXPRESSION_CHARS or not _HAS_OP.search(expression):
            continue
        source = expression.replace("×", "*").replace("÷", "/")
        try:
            value = _evaluate(ast.parse(source, mode="eval"))
        except (SyntaxError, ValueError, ZeroDivisionError, InvalidOperation, AssertionError):
            continue
        return expression, format_number(value)
    return None
