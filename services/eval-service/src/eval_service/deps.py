"""Typed dependencies of the eval-service's routes: ``registry: RegistryDep`` instead of a lookup
in an untyped dict.

:class:`AppResources` is built once per app by the start-up hook from :func:`resources_hooks`
(the registry client's connection pool lives as long as the app) and closed at shutdown; the
aliases below hand its parts to routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends
from tutorlab.registry_client import RegistryClient
from tutorlab.scoring import MathVerifier
from tutorlab.service.app import StartupHook
from tutorlab.service.deps import ServiceState, State, resources_of

from eval_service.item_store import ItemStore
from eval_service.task_registry import TaskRegistry


@dataclass
class AppResources:
    """What the eval-service's routes share: the stored benchmark items, tutor-api's registry,
    and the math-verify pool ``POST /score`` starts on its first MATH request."""

    items: ItemStore
    registry: RegistryClient
    tasks: TaskRegistry
    _verifier: MathVerifier | None = field(default=None, repr=False)

    def verifier(self) -> MathVerifier:
        """The math-verify pool, made on first use (a service that never scores MATH offline
        never pays for it)."""
        if self._verifier is None:
            self._verifier = MathVerifier(workers=1)
        return self._verifier

    async def aclose(self) -> None:
        await self.registry.aclose()
        if self._verifier is not None:
            self._verifier.close()


def resources_hooks(
    *, registry_transport: httpx.AsyncBaseTransport | None = None
) -> tuple[StartupHook, StartupHook]:
    """Start-up and shut-down hooks building and closing the app's :class:`AppResources`.

    ``registry_transport`` (tests) mounts tutor-api in process, as the worker's does.
    """

    async def startup(state: ServiceState) -> None:
        settings = state.settings
        state.resources = AppResources(
            items=ItemStore(state.sessions),
            tasks=TaskRegistry(state.sessions),
            registry=RegistryClient(
                settings.tutor_api_url,
                api_key=settings.api_key_value(),
                transport=registry_transport,
                key_envs=settings.model_key_envs,
            ),
        )

    async def shutdown(state: ServiceState) -> None:
        await resources_of(state, AppResources).aclose()

    return startup, shutdown


async def get_resources(state: State) -> AppResources:
    return resources_of(state, AppResources)


async def get_items(state: State) -> ItemStore:
    return resources_of(state, AppResources).items


async def get_registry(state: State) -> RegistryClient:
    return resources_of(state, AppResources).registry


async def get_tasks(state: State) -> TaskRegistry:
    return resources_of(state, AppResources).tasks


Resources = Annotated[AppResources, Depends(get_resources)]
ItemsDep = Annotated[ItemStore, Depends(get_items)]
RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
TasksDep = Annotated[TaskRegistry, Depends(get_tasks)]
