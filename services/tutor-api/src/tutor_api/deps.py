"""Typed dependencies of tutor-api's routes: ``registry: RegistryDep`` instead of a lookup in an
untyped dict.

:class:`AppResources` is built once per app by the start-up hook (the clients' connection pools
live as long as the app) and closed at shutdown; the aliases below hand its parts to routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from tutorlab.service.deps import ServiceState, State, resources_of, settings_of

from tutor_api.config import TutorApiSettings
from tutor_api.endpoint_clients import EndpointClients
from tutor_api.registry import Registry


@dataclass
class AppResources:
    """What tutor-api's routes share: the registry, and one model client per endpoint."""

    registry: Registry
    clients: EndpointClients

    async def aclose(self) -> None:
        await self.clients.aclose()


async def start_resources(state: ServiceState) -> None:
    """Start-up hook: build the app's :class:`AppResources`."""
    settings = settings_of(state, TutorApiSettings)
    state.resources = AppResources(
        registry=Registry(state.sessions, key_envs=settings.model_key_envs),
        clients=EndpointClients(retry=settings.retry_policy(), key_envs=settings.model_key_envs),
    )


async def close_resources(state: ServiceState) -> None:
    """Shut-down hook: close the model clients."""
    await resources_of(state, AppResources).aclose()


async def get_registry(state: State) -> Registry:
    return resources_of(state, AppResources).registry


async def get_clients(state: State) -> EndpointClients:
    return resources_of(state, AppResources).clients


RegistryDep = Annotated[Registry, Depends(get_registry)]
ClientsDep = Annotated[EndpointClients, Depends(get_clients)]
