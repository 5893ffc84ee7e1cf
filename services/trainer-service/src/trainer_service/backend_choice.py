"""Which training backend a config gets: ``tinker`` (the SDK, with ``TINKER_API_KEY``) or
``simulated`` (the in-memory model that learns; documented as a simulation)."""

from __future__ import annotations

from trainer_service.backends import make_backend
from trainer_service.backends.protocol import TrainingBackend
from trainer_service.config import TrainerServiceSettings
from trainer_service.training_config import TrainingConfig


def backend_for_config(config: TrainingConfig, settings: TrainerServiceSettings) -> TrainingBackend:
    """The backend for ``config``; raises BackendConfigError (naming ``TINKER_API_KEY``) when
    the Tinker key is missing or malformed."""
    sim = config.simulated
    return make_backend(
        config.backend,
        api_key=settings.tinker_api_key.get_secret_value() if settings.tinker_api_key else None,
        base_url=settings.tinker_base_url,
        connect_timeout_s=settings.tinker_connect_timeout_s,
        state_dir=settings.simulated_state_dir,
        forward_backward_s=sim.forward_backward_s if sim else settings.sim_forward_backward_s,
        optim_step_s=sim.optim_step_s if sim else settings.sim_optim_step_s,
        sample_s=sim.sample_s if sim else settings.sim_sample_s,
        save_s=sim.save_s if sim else 0.0,
    )
