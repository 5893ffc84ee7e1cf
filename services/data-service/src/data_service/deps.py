"""Typed dependencies of data-service's routes: ``store: DatasetsDep`` instead of a lookup in an
untyped dict.

:class:`AppResources` is built once per app by the start-up hook (the item index caches the
records and tags of the versions read last, so it lives as long as the app); the aliases below
hand its parts to routes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from tutorlab.curriculum.tagging import default_tagger
from tutorlab.service.deps import ServiceState, State, resources_of, settings_of

from data_service.config import DataServiceSettings
from data_service.dataset_store import DatasetStore
from data_service.items import ItemIndex
from data_service.training_sets import TrainingSetStore


@dataclass
class AppResources:
    """What data-service's routes share: the dataset store, its item index, the training sets."""

    datasets: DatasetStore
    items: ItemIndex
    training_sets: TrainingSetStore


async def start_resources(state: ServiceState) -> None:
    """Start-up hook: compile the rule tagger (off the event loop, once) and build the app's
    :class:`AppResources`."""
    await asyncio.to_thread(default_tagger)
    datasets = DatasetStore(state.sessions, state.settings.data_dir)
    state.resources = AppResources(
        datasets=datasets,
        items=ItemIndex(datasets),
        training_sets=TrainingSetStore(state.sessions, state.settings.data_dir),
    )


async def get_settings(state: State) -> DataServiceSettings:
    return settings_of(state, DataServiceSettings)


async def get_datasets(state: State) -> DatasetStore:
    return resources_of(state, AppResources).datasets


async def get_items(state: State) -> ItemIndex:
    return resources_of(state, AppResources).items


async def get_training_sets(state: State) -> TrainingSetStore:
    return resources_of(state, AppResources).training_sets


Settings = Annotated[DataServiceSettings, Depends(get_settings)]
DatasetsDep = Annotated[DatasetStore, Depends(get_datasets)]
ItemsDep = Annotated[ItemIndex, Depends(get_items)]
TrainingSetsDep = Annotated[TrainingSetStore, Depends(get_training_sets)]
