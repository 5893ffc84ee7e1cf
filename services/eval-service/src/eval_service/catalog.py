"""The benchmark catalog (``catalog.yaml``): tasks, prompt templates, suites."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class DatasetRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: custom: a registered task's own dataset (see ``eval_service.custom_tasks``)
    source: Literal["benchmark", "evalset", "custom"]
    name: str
    split: str | None = None


class PromptTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    template: str | None = None


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    dataset: DatasetRef
    prompt: str
    scorer: Literal["gsm8k", "math", "tutoring", "safety", "over_refusal"]
    #: a custom task's ``TaskDefinition`` (None for the catalog's own tasks)
    custom: Any = Field(default=None, exclude=True)


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    tasks: list[str] = Field(min_length=1)
    limit: int | None = Field(default=None, ge=1)
    seed: int = 0


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    prompts: dict[str, PromptTemplate]
    tasks: dict[str, TaskSpec]
    suites: dict[str, SuiteSpec]

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        for name, task in self.tasks.items():
            if task.prompt not in self.prompts:
                raise ValueError(f"task {name!r}: unknown prompt {task.prompt!r}")
        for name, suite in self.suites.items():
            for task_name in suite.tasks:
                if task_name not in self.tasks:
                    raise ValueError(f"suite {name!r}: unknown task {task_name!r}")
        return self


@cache
def load_catalog() -> Catalog:
    text = resources.files("eval_service").joinpath("catalog.yaml").read_text(encoding="utf-8")
    return Catalog.model_validate(yaml.safe_load(text))
