"""What a training job gets from its worker: typed, built once per worker process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from tutorlab.jobs.runtime import JobContext
from tutorlab.scoring.mathverify import MathVerifier
from tutorlab.tracking import Tracking

from trainer_service.backends.protocol import TrainingBackend
from trainer_service.config import TrainerServiceSettings
from trainer_service.run_store import RunStore
from trainer_service.training_config import TrainingConfig

#: builds the backend a config asks for (tests inject their own)
BackendFactory = Callable[[TrainingConfig, TrainerServiceSettings], TrainingBackend]

RESOURCES_KEY = "trainer"


@dataclass
class TrainerResources:
    settings: TrainerServiceSettings
    runs: RunStore
    #: calls to tutor-api, the eval-service and the data-service
    http: httpx.AsyncClient
    backend_factory: BackendFactory
    #: where training curves are also logged (MLflow, W&B; off by default)
    tracking: Tracking = field(default_factory=Tracking.off)
    _verifier: MathVerifier | None = field(default=None, repr=False)
    _verifier_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def verifier(self) -> MathVerifier:
        """The math-verify process pool, started on first use (MATH rewards need it; an SFT
        worker never pays for it)."""
        async with self._verifier_lock:
            if self._verifier is None:
                verifier = MathVerifier(workers=2, timeout_s=5.0)
                await asyncio.to_thread(verifier.start)
                self._verifier = verifier
            return self._verifier

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._verifier is not None:
            self._verifier.close()


def trainer_resources(ctx: JobContext) -> TrainerResources:
    resources = ctx.resources[RESOURCES_KEY]
    assert isinstance(resources, TrainerResources)
    return resources
