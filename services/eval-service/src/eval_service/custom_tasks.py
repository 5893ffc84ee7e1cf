"""Custom tasks: a team's own benchmark, defined in a task file and registered with
``POST /tasks``, run like a built-in (decision 0024).

A task file (YAML or JSON) names a dataset (a JSONL file inside the data or outputs directory,
a data-service dataset, or a Hugging Face hub dataset: :mod:`eval_service.hub_dataset`), a
prompt template whose
``{field}`` placeholders are the row's fields, which row fields hold the item id, the gold
answer and the context, the scorer (a shipped one, with its options) and metadata. Runs record
the definition, its checksum and the data's checksum, as they do a built-in's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import orjson
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)
from tutorlab.scoring.tasks import TaskScorer
from tutorlab.service.nul_chars import NUL_MSG, nul_path

from eval_service.catalog import DatasetRef, TaskSpec
from eval_service.models import ITEM_ID_MAX_CHARS

#: ``{field}``: a row field in a prompt template; any other brace (``\boxed{}``) is text
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
#: a hub repo id: ``name`` or ``org/name`` (letters, digits, ``-_.``)
HUB_REPO = r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]*/)?[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: a task file's size limit (a definition, not its data)
MAX_TASK_FILE_BYTES = 256 * 1024


class JsonlDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["jsonl"]
    path: str = Field(
        min_length=1,
        description="a JSONL file: relative to the data directory, or absolute inside the data "
        "or outputs directory",
    )


class ServiceDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["data-service"]
    name: str = Field(min_length=1, max_length=64, description="a data-service dataset")
    split: str = Field(default="test", min_length=1, max_length=64)


class HubDataset(BaseModel):
    """A dataset repo on the Hugging Face hub (``source`` may be left out: ``hub`` says it)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["hub"] = "hub"
    hub: str = Field(
        pattern=HUB_REPO,
        max_length=200,
        description="a dataset repo on the Hugging Face hub: org/name (or name)",
    )
    config: str | None = Field(
        default=None, min_length=1, max_length=200, description="its config (subset), if any"
    )
    split: str = Field(default="test", min_length=1, max_length=64)
    revision: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="a branch, tag or commit (default: the repo's main branch, as it is now)",
    )


def _dataset_kind(value: Any) -> str | None:
    """Which dataset a ``dataset`` mapping is: its ``source``, else ``hub`` when it names one."""
    if isinstance(value, dict):
        source = value.get("source")
        return "hub" if source is None and "hub" in value else source
    return getattr(value, "source", None)


AnyDataset = Annotated[
    Annotated[JsonlDataset, Tag("jsonl")]
    | Annotated[ServiceDataset, Tag("data-service")]
    | Annotated[HubDataset, Tag("hub")],
    Discriminator(
        _dataset_kind,
        custom_error_type="dataset_source",
        custom_error_message="one of jsonl, data-service, hub (or name a hub repo: hub: org/name)",
    ),
]


class RowFields(BaseModel):
    """Which fields of a row the item takes (a data-service row has id, question, answer and
    its metadata's keys)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="the item id (default: the row number)")
    target: str | None = Field(default=None, description="the gold answer")
    context: list[str] = Field(
        default_factory=list,
        description="texts whose numbers are no answer reveal (the problem first: math "
        "scoring reads it too)",
    )
    metadata: list[str] = Field(default_factory=list, description="kept on each item")


class ScorerOptions(BaseModel):
    """What a shipped scorer takes from a task: the tutoring mode and grade the reply is asked
    in (tutoring, safety, over_refusal; math scorers take none)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["solve", "hint", "check", "explain"] | None = None
    grade: int | None = Field(default=None, ge=1, le=12)


class ScorerRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TaskScorer
    options: ScorerOptions = Field(default_factory=ScorerOptions)


class PromptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=20_000)

    @field_validator("template")
    @classmethod
    def _has_field(cls, value: str) -> str:
        if not PLACEHOLDER.search(value):
            raise ValueError("names no row field: put one in braces, e.g. {question}")
        return value

    def fields(self) -> list[str]:
        return list(dict.fromkeys(PLACEHOLDER.findall(self.template)))

    def render(self, row: Mapping[str, Any]) -> str:
        return PLACEHOLDER.sub(lambda m: str(row[m.group(1)]), self.template)


class TaskDefinition(BaseModel):
    """A custom task, as its task file states it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, description="lower case, digits, . _ -")
    version: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=2000)
    dataset: AnyDataset
    prompt: PromptSpec
    fields: RowFields = Field(default_factory=RowFields)
    scorer: ScorerRef

    @field_validator("scorer", mode="before")
    @classmethod
    def _scorer_by_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    def sha256(self) -> str:
        """The definition's checksum: of its canonical JSON (key order and layout aside)."""
        canonical = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()

    def spec(self) -> TaskSpec:
        """The task as a plan runs it: the definition rides along (``custom``)."""
        return TaskSpec(
            description=self.description,
            dataset=DatasetRef(source="custom", name=self.name),
            prompt=f"custom:{self.name}",
            scorer=self.scorer.name,
            custom=self,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "custom": True,
            "description": self.description,
            "version": self.version,
            "dataset": self.dataset.model_dump(),
            "scorer": self.scorer.name,
            "sha256": self.sha256(),
        }


class TaskFileError(ValueError):
    """A task file that cannot be registered: ``detail`` entries name the field (and the line
    of a YAML file)."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        self.detail = detail
        super().__init__("; ".join(_entry_text(d) for d in detail))


def _entry_text(entry: Mapping[str, Any]) -> str:
    line = f" (line {entry['line']})" if entry.get("line") else ""
    return f"{entry['field']}: {entry['msg']}{line}"


def _node_line(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (its nearest ancestor's when the field is
    missing)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def parse_task_file(text: str | bytes, *, yaml_text: bool) -> TaskDefinition:
    """A task file's definition (YAML, or JSON with ``yaml_text`` False);
    :class:`TaskFileError` names each bad field, with its line in a YAML file."""
    node: yaml.Node | None = None
    try:
        if yaml_text:
            source = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            node = yaml.compose(source, Loader=yaml.SafeLoader)
            data = yaml.safe_load(source)
        else:
            data = orjson.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        entry: dict[str, Any] = {"field": "body", "msg": f"not a YAML task file: {problem}"}
        if mark is not None:
            entry["line"] = mark.line + 1
        raise TaskFileError([entry]) from exc
    except orjson.JSONDecodeError as exc:
        raise TaskFileError([{"field": "body", "msg": f"not a JSON task file: {exc}"}]) from exc
    except RecursionError as exc:  # YAML's composer recurses once per level
        raise TaskFileError([_too_deep()]) from exc
    if _depth_over(data, MAX_TASK_FILE_DEPTH):
        raise TaskFileError([_too_deep()])
    if not isinstance(data, dict):
        raise TaskFileError([{"field": "body", "msg": "a task file is a mapping (name: ...)"}])
    nul = nul_path(data)  # a YAML "\0"; a JSON body's was refused before the route ran
    if nul is not None:
        entry = {"field": ".".join(str(p) for p in nul), "msg": NUL_MSG, "loc": list(nul)}
        if node is not None:
            entry["line"] = _node_line(node, nul)
        raise TaskFileError([entry])
    try:
        return TaskDefinition.model_validate(data)
    except ValidationError as exc:
        detail = []
        for error in exc.errors():
            loc = _without_tag(error["loc"], error["type"])
            field = ".".join(str(p) for p in loc) or "body"
            entry = {"field": field, "msg": error["msg"], "loc": loc, "type": error["type"]}
            if node is not None:
                entry["line"] = _node_line(node, loc)
            detail.append(entry)
        raise TaskFileError(detail) from exc


#: a task file is a few levels deep; deeper is no task file (and would cost the validators)
MAX_TASK_FILE_DEPTH = 32


def _too_deep() -> dict[str, Any]:
    return {
        "field": "body",
        "loc": ["body"],
        "msg": f"nested more than {MAX_TASK_FILE_DEPTH} levels deep: not a task file",
        "type": "json_too_deep",
    }


def _depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


#: the discriminated union's tags pydantic puts in an error's loc (``dataset.jsonl.path``)
_UNION_TAGS = {"jsonl", "data-service", "hub"}


def _without_tag(loc: Sequence[str | int], kind: str) -> list[str | int]:
    """An error's loc as the task file spells it: ``dataset.hub.hub`` is ``dataset.hub`` (the
    union's tag comes right after ``dataset``); a dataset of no known kind is its ``source``."""
    out = list(loc)
    if out[:1] == ["dataset"] and len(out) > 1 and out[1] in _UNION_TAGS:
        del out[1]
    if kind == "dataset_source":
        out.append("source")
    return out


class CustomRows(NamedTuple):
    """A custom task's rows as loaded, their sha256 and (a hub dataset's) commit."""

    rows: list[dict[str, Any]]
    sha256: str
    revision: str | None = None


def resolve_jsonl(raw: str, roots: Sequence[Path]) -> Path:
    """The JSONL a task names, relative to the first root (the data directory) or absolute,
    symlinks followed, inside one of ``roots``; ValueError naming ``dataset.path`` otherwise
    (outside and missing read the same, so a request learns nothing about other files)."""
    where = " or ".join(str(root) for root in roots)
    refused = ValueError(f"dataset.path: {raw!r} is no JSONL file in {where}")
    try:
        candidate = Path(raw)
        path = (candidate if candidate.is_absolute() else roots[0] / candidate).resolve()
        if not any(path.is_relative_to(root.resolve()) for root in roots) or not path.is_file():
            raise refused
    except (OSError, RuntimeError, ValueError) as exc:
        if exc is refused:
            raise
        raise refused from exc
    return path


def read_rows(path: Path) -> tuple[list[dict[str, Any]], str]:
    """A JSONL file's rows and its bytes' sha256; ValueError naming the line of a bad row."""
    data = path.read_bytes()
    rows = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"dataset.path: line {number} is not JSON ({exc})") from exc
        if not isinstance(row, dict):
            raise ValueError(f"dataset.path: line {number} is not a JSON object")
        row["__line__"] = number
        rows.append(row)
    if not rows:
        raise ValueError("dataset.path: the file has no rows")
    return rows, hashlib.sha256(data).hexdigest()


def check_item_id(item_id: str, where: str) -> None:
    """An id a run can store and a URL can name: no NUL (PostgreSQL refuses it in a text
    column), at most :data:`ITEM_ID_MAX_CHARS` characters (PostgreSQL enforces the column's
    length); else a ValueError naming ``fields.id`` and the row, at registration rather than a
    failed batch in the middle of a run."""
    if "\x00" in item_id:
        raise ValueError(f"fields.id: {where} has an id that {NUL_MSG}: {item_id!r}")
    if len(item_id) > ITEM_ID_MAX_CHARS:
        raise ValueError(
            f"fields.id: {where} has an id of {len(item_id):,} characters, over the "
            f"{ITEM_ID_MAX_CHARS} a run stores: {item_id[:40]!r}…"
        )


def check_rows(definition: TaskDefinition, rows: Sequence[Mapping[str, Any]]) -> None:
    """Every row has the fields the task reads; ValueError naming the field and the line."""
    fields = definition.fields
    wanted = [("prompt.template", name) for name in definition.prompt.fields()]
    wanted += [
        (key, name)
        for key, name in (("fields.id", fields.id), ("fields.target", fields.target))
        if name is not None
    ]
    wanted += [("fields.context", name) for name in fields.context]
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"line {row['__line__']}" if "__line__" in row else f"row {index}"
        for field, name in wanted:
            if row.get(name) is None:
                raise ValueError(f"{field}: {where} of the dataset has no field {name!r}")
        if fields.id is not None:
            item_id = str(row[fields.id])
            if item_id in seen:
                raise ValueError(f"fields.id: {where} repeats the id {item_id!r}")
            check_item_id(item_id, where)
            seen.add(item_id)
