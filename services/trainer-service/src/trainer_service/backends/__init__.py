"""Training backends behind the project's protocol (see :mod:`.protocol`)."""

from .protocol import (
    BackendConfigError,
    BackendError,
    LossFn,
    ModelCapability,
    Sampler,
    TrainingBackend,
    TrainingRun,
)
from .sim_requests import PendingResult, RunEvent
from .simulated import SimulatedBackend, SimulatedLatencies, SimulatedRun, SimulatedSampler

__all__ = [
    "BackendConfigError",
    "BackendError",
    "LossFn",
    "ModelCapability",
    "PendingResult",
    "RunEvent",
    "Sampler",
    "SimulatedBackend",
    "SimulatedLatencies",
    "SimulatedRun",
    "SimulatedSampler",
    "TrainingBackend",
    "TrainingRun",
]
