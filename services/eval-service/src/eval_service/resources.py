"""What a benchmark job gets from its worker: typed, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from tutorlab.jobs.runtime import JobContext
from tutorlab.scoring import MathVerifier
from tutorlab.tracking import Tracking

from eval_service.config import EvalServiceSettings
from eval_service.item_store import ItemStore
from eval_service.items import ItemLoader
from eval_service.scorers import Scorer
from eval_service.targets import TargetResolver

RESOURCES_KEY = "eval"


@dataclass
class EvalResources:
    settings: EvalServiceSettings
    sessions: async_sessionmaker[AsyncSession]
    items: ItemStore
    #: a run's model (or tutor-api) and its judge, from tutor-api's registry
    targets: TargetResolver
    #: the math-verify pool the scorer uses, started with the worker
    verifier: MathVerifier
    scorer: Scorer
    #: the data-service, when the worker reads datasets from it (else the mirror)
    data_http: httpx.AsyncClient | None = None
    #: where finished runs are also logged (MLflow, W&B; off by default)
    tracking: Tracking = field(default_factory=Tracking.off)

    def loader(self) -> ItemLoader:
        """Reads a run's datasets: the data-service's when it has them, else the mirror."""
        return ItemLoader.for_service(self.settings, self.data_http)

    async def aclose(self) -> None:
        await self.targets.aclose()
        if self.data_http is not None:
            await self.data_http.aclose()
        self.verifier.close()


def eval_resources(ctx: JobContext) -> EvalResources:
    resources = ctx.resources[RESOURCES_KEY]
    assert isinstance(resources, EvalResources)
    return resources
