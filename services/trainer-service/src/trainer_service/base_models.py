"""Which Hugging Face model Tinker trains when a config says ``qwen3:8b``.

Teams name models the way Ollama does (``qwen3:8b`` is what the baseline tutor runs), while
Tinker takes Hugging Face ids (``Qwen/Qwen3-8B``). This table is the one place that maps the
first to the second. It lists only models Tinker offers (its model lineup page and
tinker-cookbook 0.6.1's ``model_info``); any id containing ``/`` passes through unchanged, and
the server's capabilities are checked before the first step anyway.

Where Tinker offers a different checkpoint than the one Ollama serves under that tag (a base
model for Ollama's instruct model, say), ``same_as_ollama`` is False and ``note`` says how they
differ: a benchmark against the Ollama baseline then compares two starting points, not one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: a Hugging Face repository id: ``owner/name``
HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class BaseModelEntry:
    """One Ollama-style name and the Tinker base model it stands for."""

    short_name: str
    hf_id: str
    #: True when Ollama's tag is the same checkpoint (quantized) as the one Tinker trains
    same_as_ollama: bool
    note: str = ""


_ENTRIES: tuple[BaseModelEntry, ...] = (
    BaseModelEntry("qwen3:8b", "Qwen/Qwen3-8B", True, "the default tutor model (hybrid thinking)"),
    BaseModelEntry(
        "qwen3:4b",
        "Qwen/Qwen3-4B-Instruct-2507",
        False,
        "Tinker offers the 4B only as Instruct-2507 (no thinking mode); Ollama's qwen3:4b "
        "is the hybrid checkpoint",
    ),
    BaseModelEntry("qwen3:4b-instruct", "Qwen/Qwen3-4B-Instruct-2507", True),
    BaseModelEntry("qwen3:32b", "Qwen/Qwen3-32B", True),
    BaseModelEntry("qwen3:30b-a3b", "Qwen/Qwen3-30B-A3B", True, "mixture of experts, 3B active"),
    BaseModelEntry("qwen3:30b-a3b-instruct-2507", "Qwen/Qwen3-30B-A3B-Instruct-2507", True),
    BaseModelEntry("qwen3:235b-a22b-instruct-2507", "Qwen/Qwen3-235B-A22B-Instruct-2507", True),
    BaseModelEntry("llama3.1:8b", "meta-llama/Llama-3.1-8B-Instruct", True),
    BaseModelEntry(
        "llama3.1:70b",
        "meta-llama/Llama-3.1-70B",
        False,
        "Tinker offers the base model; Ollama's llama3.1:70b is the instruct model",
    ),
    BaseModelEntry("llama3.3:70b", "meta-llama/Llama-3.3-70B-Instruct", True),
    BaseModelEntry(
        "llama3.2:3b",
        "meta-llama/Llama-3.2-3B",
        False,
        "Tinker offers the base model; Ollama's llama3.2:3b is the instruct model",
    ),
    BaseModelEntry(
        "llama3.2:1b",
        "meta-llama/Llama-3.2-1B",
        False,
        "Tinker offers the base model; Ollama's llama3.2:1b is the instruct model",
    ),
    BaseModelEntry("gpt-oss:20b", "openai/gpt-oss-20b", True),
    BaseModelEntry("gpt-oss:120b", "openai/gpt-oss-120b", True),
    BaseModelEntry("deepseek-v3.1:671b", "deepseek-ai/DeepSeek-V3.1", True),
)

#: Ollama-style name -> entry (names are lower case)
BASE_MODELS: Mapping[str, BaseModelEntry] = MappingProxyType({e.short_name: e for e in _ENTRIES})

#: Ollama's untagged names (``:latest``) and the tag they stand for
ALIASES: Mapping[str, str] = MappingProxyType(
    {"qwen3": "qwen3:8b", "llama3.1": "llama3.1:8b", "llama3.2": "llama3.2:3b"}
)


class UnknownBaseModel(ValueError):
    """A model name that cannot be resolved; ``str()`` is ``"<field>: <reason>"`` and the
    reason lists the names the table knows."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def known_short_names() -> list[str]:
    return sorted(BASE_MODELS)


def _normalise(name: str) -> str:
    key = name.strip().lower()
    key = key.removesuffix(":latest")
    return ALIASES.get(key, key)


def entry_for(name: str) -> BaseModelEntry | None:
    """The table's entry for a short name or a Hugging Face id (first entry with that id)."""
    entry = BASE_MODELS.get(_normalise(name))
    if entry is not None:
        return entry
    return next((e for e in _ENTRIES if e.hf_id == name.strip()), None)


def resolve_base_model(name: str, *, field: str = "model.base_model") -> str:
    """The Hugging Face id Tinker trains for ``name``.

    ``qwen3:8b`` -> ``Qwen/Qwen3-8B``; ``Qwen/Qwen3-8B`` -> itself. Raises
    :class:`UnknownBaseModel` naming ``field`` for an unknown short name, a malformed id, or a
    ``tinker://`` checkpoint path (a base model is a name, not a checkpoint).
    """
    value = name.strip()
    if not value:
        raise UnknownBaseModel(field, "must name a base model, e.g. qwen3:8b")
    if value.startswith("tinker://"):
        raise UnknownBaseModel(
            field,
            f"{value!r} is a Tinker checkpoint path, not a base model "
            "(name the base model the checkpoint was trained from, e.g. qwen3:8b)",
        )
    if "/" in value:
        if not HF_ID.match(value):
            raise UnknownBaseModel(
                field,
                f"{value!r} is not a Hugging Face id (expected owner/name, e.g. Qwen/Qwen3-8B)",
            )
        return value
    entry = BASE_MODELS.get(_normalise(value))
    if entry is None:
        raise UnknownBaseModel(
            field,
            f"unknown model {value!r}; known names: {', '.join(known_short_names())} "
            "(or give a Hugging Face id such as Qwen/Qwen3-8B)",
        )
    return entry.hf_id
