"""The job lease settings: the defaults bound a dead worker's takeover, and a heartbeat that
could not keep a lease is refused."""

from __future__ import annotations

import os

import pytest
from data_service.config import DataServiceSettings
from eval_service.config import EvalServiceSettings
from pydantic import ValidationError
from trainer_service.config import TrainerServiceSettings
from tutorlab.jobs.arq_worker import build_worker_settings
from tutorlab.settings import ServiceSettings

RUNS_JOBS: list[type[ServiceSettings]] = [
    DataServiceSettings,
    EvalServiceSettings,
    TrainerServiceSettings,
]


@pytest.fixture(autouse=True)
def no_job_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if "_JOB_" in name.upper() or name.upper() == "TUTORLAB_QUEUE_PREFIX":
            monkeypatch.delenv(name)


@pytest.mark.parametrize("settings_cls", RUNS_JOBS, ids=lambda cls: cls.service_name)
def test_defaults_take_a_dead_workers_job_over_within_20_s(
    settings_cls: type[ServiceSettings],
) -> None:
    settings = settings_cls()
    # the lease runs out, then the next reconcile re-enqueues the job, then a second for arq
    # to fire the cron and a worker to claim it (decision 0002)
    assert settings.job_takeover_within_s == (
        settings.job_stale_after_s + settings.job_reconcile_every_s + 1.0
    )
    assert settings.job_takeover_within_s <= 20
    # a live worker renews its lease several times before it could be taken over
    assert settings.job_stale_after_s >= 5 * settings.job_heartbeat_s


def test_reconcile_runs_at_the_configured_interval_under_a_name_of_its_service() -> None:
    settings = DataServiceSettings(job_reconcile_every_s=7, queue_prefix="district-a")
    [cron_job] = build_worker_settings(settings, {}, "x").cron_jobs  # type: ignore[attr-defined]
    assert cron_job.name == "cron:reconcile:district-a:data-service"
    # every 7 s within the minute; the wrap from :56 to :00 is shorter, never longer
    assert cron_job.second == {0, 7, 14, 21, 28, 35, 42, 49, 56}
    assert cron_job.run_at_startup


def test_a_heartbeat_that_cannot_keep_its_lease_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        DataServiceSettings(job_stale_after_s=3, job_heartbeat_s=2)
    assert "job_heartbeat_s" in str(refused.value)
    with pytest.raises(ValidationError) as too_rare:
        DataServiceSettings(job_reconcile_every_s=31)
    assert "job_reconcile_every_s" in str(too_rare.value)
