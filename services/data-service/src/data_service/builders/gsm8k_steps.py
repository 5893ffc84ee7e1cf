"""GSM8K solutions as steps: the calculator annotations (``<<48/2=24>>``) made usable.

A solution line such as ``Natalia sold 48/2 = <<48/2=24>>24 clips in May.`` becomes a
:class:`Step` with the text a student would write (``Natalia sold 48/2 = 24 clips in May.``),
the expression and result, and a "blanked" sentence with the computation hidden
(``Natalia sold ___ clips in May.``) that a hint can ask about without giving anything away.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

_CALC = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
_VISIBLE_RESULT = re.compile(r"^\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?")
#: the visible computation just before an annotation: numbers, operators, $, %, ending in "="
_VISIBLE_EXPR = re.compile(r"(?<![A-Za-z])(?:[\d.,+\-*/×÷()$%]|\s|(?<=\s)x(?=\s))*=\s*\$?\s*$")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\w.])\.\d+")
_OPERATOR_CHARS = set("+-*/×÷x")
BLANK = "___"


@dataclass(frozen=True)
class Step:
    line: str  # the raw solution line
    text: str  # what the student writes: the line without its calculator note
    expression: str | None  # "48/2"
    result: Fraction | None  # 24
    blanked: str | None  # "Natalia sold ___ clips in May."
    visible_expression: str | None  # "48/2" as written in the line, when found

    @property
    def is_calculation(self) -> bool:
        return self.expression is not None and self.result is not None


def format_number(value: Fraction) -> str:
    """24 -> "24"; 0.2 -> "0.2"; 1/3 -> "0.33" (two decimals at most)."""
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _parse_fraction(text: str) -> Fraction | None:
    text = text.strip().replace(",", "")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


_OPS: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate(expression: str) -> Fraction | None:
    """Exact value of an annotation expression (+ - * / and parentheses); None otherwise."""
    try:
        tree = ast.parse(expression.replace(",", "").replace("x", "*"), mode="eval")
    except SyntaxError:
        return None

    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError("unsupported expression")

    try:
        return walk(tree)
    except (ValueError, ZeroDivisionError, TypeError):
        return None


def parse_step(line: str) -> Step:
    match = _CALC.search(line)
    text = " ".join(_CALC.sub("", line).split())
    if match is None:
        return Step(line, text, None, None, None, None)
    expression = match.group(1).strip()
    result = _parse_fraction(match.group(2)) or evaluate(expression)
    before, after = line[: match.start()], line[match.end() :]
    rest = after[_VISIBLE_RESULT.match(after).end() :]  # type: ignore[union-attr]
    visible = _VISIBLE_EXPR.search(before)
    visible_expression: str | None = None
    if visible is not None:
        run = visible.group(0)
        body = run.rsplit("=", 1)[0]
        if re.search(r"\d", body) and _OPERATOR_CHARS & set(body.replace(" x ", "x")):
            visible_expression = " ".join(body.split()) or None
            head = before[: visible.start()]
        else:
            head = _keep_equals(before)
    else:
        head = _keep_equals(before)
    blanked = " ".join(f"{head.rstrip()} {BLANK}{rest}".split())
    return Step(line, text, expression, result, blanked, visible_expression)


def _keep_equals(before: str) -> str:
    """``… 6 pages= $`` -> ``… 6 pages =``: the blank then reads as the result."""
    head = before.rstrip().rstrip("$").rstrip()
    return head.removesuffix("=").rstrip() + " =" if head.endswith("=") else head


def solution_steps(solution: str) -> list[Step]:
    """The steps of a GSM8K solution (the ``#### answer`` line excluded)."""
    lines = [ln for ln in solution.splitlines() if ln.strip() and not ln.startswith("####")]
    return [parse_step(ln) for ln in lines]


def pretty_expression(expression: str) -> str:
    """``12*2`` -> ``12 × 2``; ``84/2`` -> ``84 ÷ 2``."""
    text = re.sub(r"\s*\*\s*", " × ", expression)
    text = re.sub(r"(?<=[\d)])\s*/\s*(?=[\d(])", " ÷ ", text)
    text = re.sub(r"(?<=[\d)])\s*([+-])\s*(?=[\d(])", r" \1 ", text)
    return " ".join(text.split())


def main_operation(expression: str) -> str | None:
    """The operation of an annotation: '+', '-', '*', '/' (the last applied), or None."""
    try:
        tree = ast.parse(expression.replace(",", ""), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(tree, ast.BinOp):
        return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(tree.op))
    return None


def replace_numbers(text: str, old: Fraction, new: str) -> tuple[str, int]:
    """Replace every number in ``text`` equal to ``old`` with ``new``; returns (text, count)."""
    count = 0

    def sub(match: re.Match[str]) -> str:
        nonlocal count
        if _parse_fraction(match.group(0)) == old:
            count += 1
            return new
        return match.group(0)

    return _NUMBER.sub(sub, text), count


def with_wrong_values(
    steps: Sequence[Step], first: int, wrong: Fraction
) -> list[tuple[str, Fraction | None]] | None:
    """The student's lines when step ``first`` gets ``wrong`` and later steps carry it along.

    Every later calculation that uses a changed value is recomputed from its annotation; the
    visible line is rewritten to match. None when a later line cannot be rewritten consistently.
    """
    changed: dict[Fraction, Fraction] = {}
    out: list[tuple[str, Fraction | None]] = []
    for index, step in enumerate(steps):
        if index < first or not step.is_calculation:
            if any(replace_numbers(step.text, old, "")[1] for old in changed):
                return None  # a later line that states a changed value in words we can't redo
            out.append((step.text, step.result))
            continue
        assert step.expression is not None and step.result is not None
        if index == first:
            new_result = wrong
            expression_text = step.visible_expression
        else:
            expression = step.expression
            used = False
            for old, new in changed.items():
                expression, hits = replace_numbers(expression, old, format_number(new))
                used = used or hits > 0
            if not used:
                out.append((step.text, step.result))
                continue
            value = evaluate(expression)
            if value is None:
                return None
            new_result = value
            expression_text = step.visible_expression
            if expression_text is None:
                return None
            for old, new in changed.items():
                expression_text, _ = replace_numbers(expression_text, old, format_number(new))
        rewritten = _rewrite_line(step, expression_text, new_result)
        if rewritten is None:
            return None
        changed[step.result] = new_result
        out.append((rewritten, new_result))
    return out


def _rewrite_line(step: Step, expression_text: str | None, result: Fraction) -> str | None:
    match = _CALC.search(step.line)
    if match is None:
        return None
    before, after = step.line[: match.start()], step.line[match.end() :]
    rest = after[_VISIBLE_RESULT.match(after).end() :]  # type: ignore[union-attr]
    if expression_text is not None and step.visible_expression is not None:
        visible = _VISIBLE_EXPR.search(before)
        assert visible is not None
        run = visible.group(0)
        tail = "= $" if "$" in run[run.rindex("=") :] else "= "
        before = f"{before[: visible.start()]} {expression_text} {tail}"
    return " ".join(f"{before}{format_number(result)}{rest}".split())
