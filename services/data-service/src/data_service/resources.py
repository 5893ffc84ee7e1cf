"""What a data job gets from its worker: typed, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.cache import ResponseCache
from tutorlab.jobs.runtime import JobContext

from data_service.config import DataServiceSettings
from data_service.dataset_store import DatasetStore
from data_service.model_access import ModelAccess

RESOURCES_KEY = "data"


@dataclass
class DataResources:
    settings: DataServiceSettings
    sessions: async_sessionmaker[AsyncSession]
    datasets: DatasetStore
    #: registered endpoints (tutor-api) and clients for them: the LLM tagger, the teacher
    models: ModelAccess

    def response_cache(self) -> ResponseCache:
        """The model replies stored in this service's database (a re-run asks nothing twice)."""
        return ResponseCache(self.sessions)

    async def aclose(self) -> None:
        await self.models.aclose()


def data_resources(ctx: JobContext) -> DataResources:
    resources = ctx.resources[RESOURCES_KEY]
    assert isinstance(resources, DataResources)
    return resources
