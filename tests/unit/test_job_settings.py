"""The job lease settings: the defaults bound a dead worker's takeover, and a heartbeat that
could not keep a lease is refused; the liveness file each worker's loop touches, and the probe
that reads its age."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from data_service.config import DataServiceSettings
from eval_service.config import EvalServiceSettings
from pydantic import ValidationError
from trainer_service.config import TrainerServiceSettings
from tutorlab.jobs.arq_worker import build_worker_settings
from tutorlab.settings import ServiceSettings
from tutorlab.worker_health import AliveFile, check_alive

RUNS_JOBS: list[type[ServiceSettings]] = [
    DataServiceSettings,
    EvalServiceSettings,
    TrainerServiceSettings,
]


@pytest.fixture(autouse=True)
def no_job_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        upper = name.upper()
        if "_JOB_" in upper or "_WORKER_ALIVE_" in upper or upper == "TUTORLAB_QUEUE_PREFIX":
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


def test_each_queue_has_its_own_liveness_file_unless_one_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = {cls(queue_prefix="district-a").worker_alive_path for cls in RUNS_JOBS}
    assert len(paths) == len(RUNS_JOBS)
    for path in paths:
        assert path.parent == Path(tempfile.gettempdir())
        assert path.name.startswith("tutorlab-worker-district-a-") and ":" not in path.name
    monkeypatch.setenv("DATA_SERVICE_WORKER_ALIVE_FILE", str(tmp_path / "data.alive"))
    settings = DataServiceSettings()
    assert settings.worker_alive_path == tmp_path / "data.alive"
    # what the worker touches is what the probe reads
    assert build_worker_settings(settings, {}, "x").alive_file == settings.worker_alive_path  # type: ignore[attr-defined]


def test_the_liveness_probe_reads_the_age_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    settings = DataServiceSettings(worker_alive_file=path, worker_alive_within_s=30)
    alive, message = check_alive(settings)
    assert not alive and message == (
        f"not alive: no worker loop has turned here ({path} does not exist)"
    )
    AliveFile(path).touch()
    alive, message = check_alive(settings)
    assert alive and message.startswith("alive: the worker's loop turned 0."), message
    then = time.time() - 45
    os.utime(path, (then, then))
    alive, message = check_alive(settings)
    assert not alive
    assert message == "not alive: the worker's loop last turned 45 s ago (limit 30 s)"


#: what a probe need not load: the worker's machinery and the services' own code
WORKER_MODULES = ("arq", "sqlalchemy", "sqlmodel", "httpx", "fastapi", "math_verify")


@pytest.mark.parametrize("settings_cls", RUNS_JOBS, ids=lambda cls: cls.service_name)
def test_a_probe_loads_the_settings_not_the_worker(
    settings_cls: type[ServiceSettings], tmp_path: Path
) -> None:
    """An orchestrator runs a probe every few seconds: ``python -m <pkg>.worker_probe`` loads
    the service's settings and a Redis client, not its worker (seconds to import on a busy
    machine: arq, the database layer, every job kind)."""
    package = settings_cls.__module__.split(".")[0]
    code = f"""
import runpy, sys
sys.argv = ["probe", "--alive"]
try:
    runpy.run_module("{package}.worker_probe", run_name="__main__")
except SystemExit as exit:
    print("exit", exit.code)
loaded = {{name.split(".")[0] for name in sys.modules}} & set({WORKER_MODULES!r})
print(sorted(loaded), sorted(m for m in sys.modules if m.startswith("{package}.")))
"""
    prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
    env = {**os.environ, f"{prefix}WORKER_ALIVE_FILE": str(tmp_path / "none.alive")}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    exit_line, modules = run.stdout.strip().splitlines()
    assert exit_line == "exit 1"  # no worker ran here
    assert modules == f"[] ['{package}.config']", modules
