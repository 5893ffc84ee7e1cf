"""Typed dependencies of the trainer-service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from tutorlab.service.deps import State, settings_of

from trainer_service.config import TrainerServiceSettings
from trainer_service.run_store import RunStore


async def get_run_store(state: State) -> RunStore:
    return RunStore(state.sessions)


async def get_settings(state: State) -> TrainerServiceSettings:
    return settings_of(state, TrainerServiceSettings)


RunStoreDep = Annotated[RunStore, Depends(get_run_store)]
Settings = Annotated[TrainerServiceSettings, Depends(get_settings)]
