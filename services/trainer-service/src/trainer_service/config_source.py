"""Config text -> data, plus where each field sits in the text, so every problem can say
``training.learning_rate (line 9): …`` instead of only what is wrong.

YAML is read twice: ``yaml.compose`` for the node tree (whose marks give each key's line) and
the safe constructor for the values. JSON is decoded by ``json`` (JSON semantics, JSON errors
with their line) and its lines come from the same YAML composer, which reads JSON objects too;
when it cannot, the problems simply carry no line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

Path = tuple[str | int, ...]
ConfigFormat = Literal["yaml", "json"]


class ConfigProblem(BaseModel):
    """One thing wrong with a config: the dotted field path, what is wrong, and its line
    (1-based) in the submitted text when known."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.field} (line {self.line})" if self.line is not None else self.field
        return f"{where}: {self.message}"


class ConfigError(ValueError):
    """A config that cannot be used; ``problems`` lists every reason, each with its field."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid config")

    def detail(self) -> list[dict[str, Any]]:
        """The problems in the services' 422 ``detail`` shape (``field``, ``msg``, ``line``)."""
        return [
            {"field": p.field, "msg": p.message, "line": p.line, "type": "config"}
            for p in self.problems
        ]


def dotted(path: Path) -> str:
    """``("rlvr", "rewards", "format")`` -> ``rlvr.rewards.format``; list items as ``[i]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "config"


@dataclass
class SourceText:
    """Parsed config data and the line of every key and list item in the text."""

    data: Any
    fmt: ConfigFormat
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest ancestor present in the text (a missing
        field is reported where its block starts); None when nothing on the way is known."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: Path, message: str) -> ConfigProblem:
        return ConfigProblem(field=dotted(path), message=message, line=self.line_of(path))


def detect_format(text: str) -> ConfigFormat:
    return "json" if text.lstrip().startswith(("{", "[")) else "yaml"


def _mark_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _walk(
    node: yaml.Node, path: Path, lines: dict[Path, int], duplicates: list[tuple[Path, int, int]]
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue  # merge keys and complex keys: their fields fall back to the parent
            child = (*path, str(key_node.value))
            line = key_node.start_mark.line + 1
            if child in lines:
                duplicates.append((child, lines[child], line))
                # the later value is the one YAML keeps: forget the earlier one's fields
                for known in [k for k in lines if k[: len(child)] == child]:
                    del lines[known]
            lines[child] = line
            _walk(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, duplicates)


def _compose_lines(text: str) -> tuple[dict[Path, int], list[tuple[Path, int, int]]]:
    lines: dict[Path, int] = {}
    duplicates: list[tuple[Path, int, int]] = []
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        _walk(root, (), lines, duplicates)
    return lines, duplicates


def _unreadable(fmt: str, exc: RecursionError | ValueError) -> ConfigError:
    """What the parser could not hold: nesting past the recursion limit, or a number past
    Python's 4,300-digit int-string limit (a ValueError)."""
    reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
    return ConfigError([ConfigProblem(field="config", message=f"invalid {fmt}: {reason}")])


def read_source(text: str, fmt: ConfigFormat | None = None) -> SourceText:
    """Decode ``text`` (YAML or JSON; guessed from its first character when ``fmt`` is None).

    Raises :class:`ConfigError` for a syntax error (with its line), an empty document, a
    document that is not a mapping, or a key given twice (YAML would silently keep the last).
    """
    fmt = fmt or detect_format(text)
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                [ConfigProblem(field="config", message=f"invalid JSON: {exc.msg}", line=exc.lineno)]
            ) from exc
        except (RecursionError, ValueError) as exc:
            raise _unreadable("JSON", exc) from exc
        try:
            # JSON strings cannot hold a raw tab, so tabs are layout: YAML refuses them as
            # indentation, spaces keep every line where it was
            lines, duplicates = _compose_lines(text.replace("\t", " "))
        except (yaml.YAMLError, RecursionError):
            lines, duplicates = {}, []
    else:
        try:
            lines, duplicates = _compose_lines(text)
            data = yaml.safe_load(text)
        except (RecursionError, ValueError) as exc:
            raise _unreadable("YAML", exc) from exc
        except yaml.YAMLError as exc:
            parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
            reason = " ".join(p for p in parts if p) or str(exc)
            raise ConfigError(
                [
                    ConfigProblem(
                        field="config", message=f"invalid YAML: {reason}", line=_mark_line(exc)
                    )
                ]
            ) from exc
    source = SourceText(data=data, fmt=fmt, lines=lines)
    if data is None:
        raise ConfigError([ConfigProblem(field="config", message="the config is empty")])
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigProblem(
                    field="config",
                    message=f"the config must be a mapping of fields, not a {type(data).__name__}",
                    line=1,
                )
            ]
        )
    if duplicates:
        raise ConfigError(
            [
                ConfigProblem(
                    field=dotted(path),
                    message=f"given twice (first on line {first}); keep one",
                    line=again,
                )
                for path, first, again in duplicates
            ]
        )
    return source
