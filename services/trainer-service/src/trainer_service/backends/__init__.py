"""Training backends behind the project's protocol (see :mod:`.protocol`): ``tinker`` (the real
service) and ``simulated`` (a small model that really learns, for tests, the demo and anyone
without a key). :func:`make_backend` builds either from a config's ``backend:``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

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
from .tinker_backend import API_KEY_ENV, TinkerBackend, TinkerConnector, check_api_key
from .tinker_paths import CheckpointPath

BackendKind = Literal["tinker", "simulated"]


def make_backend(
    kind: BackendKind,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    state_dir: Path | None = None,
    latencies: SimulatedLatencies | None = None,
    forward_backward_s: float = 0.0,
    optim_step_s: float = 0.0,
    forward_s: float = 0.0,
    sample_s: float = 0.0,
    save_s: float = 0.0,
    connect_timeout_s: float = 60.0,
    connector: TinkerConnector | None = None,
    **simulated: Any,
) -> TrainingBackend:
    """The backend a config names.

    ``tinker``: ``api_key`` (the caller reads TINKER_API_KEY from the environment or .env; a
    missing or malformed key raises BackendConfigError naming it), optional ``base_url``,
    ``connect_timeout_s`` and ``connector`` (tests); the simulated backend's settings
    (``state_dir``, latencies) are ignored, so a caller can pass its settings whatever the kind.
    ``simulated``: ``state_dir`` (required: checkpoints live there, so a restarted worker can
    resume), the latencies (``latencies``, or the seconds ``forward_backward_s``,
    ``optim_step_s``, ``forward_s``, ``sample_s``, ``save_s``), and any other
    :class:`SimulatedBackend` option by keyword (``vocab_size``, ``lr_scale``, ``decode``,
    ``models``, ``seed`` …).
    """
    seconds = (forward_backward_s, optim_step_s, forward_s, sample_s, save_s)
    if kind == "tinker":
        if simulated:
            raise BackendConfigError(
                f"backend tinker: {', '.join(sorted(simulated))} apply to the simulated backend"
            )
        return TinkerBackend(
            api_key=api_key,
            base_url=base_url,
            connect_timeout_s=connect_timeout_s,
            connector=connector,
        )
    if kind == "simulated":
        if state_dir is None:
            raise BackendConfigError(
                "state_dir: the simulated backend keeps its checkpoints on disk; give a directory"
            )
        if latencies is not None and any(seconds):
            raise BackendConfigError(
                "latencies: give a SimulatedLatencies or the seconds, not both"
            )
        try:
            latencies = latencies or SimulatedLatencies(*seconds)
        except ValueError as exc:
            raise BackendConfigError(str(exc)) from exc
        return SimulatedBackend(state_dir, latencies=latencies, **simulated)
    raise BackendConfigError(f"backend: {kind!r} is not one of tinker, simulated")


__all__ = [
    "API_KEY_ENV",
    "BackendConfigError",
    "BackendError",
    "BackendKind",
    "CheckpointPath",
    "LossFn",
    "ModelCapability",
    "PendingResult",
    "RunEvent",
    "Sampler",
    "SimulatedBackend",
    "SimulatedLatencies",
    "SimulatedRun",
    "SimulatedSampler",
    "TinkerBackend",
    "TinkerConnector",
    "TrainingBackend",
    "TrainingRun",
    "check_api_key",
    "make_backend",
]
