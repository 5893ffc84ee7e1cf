"""Optional tracking (tutorlab.tracking): off by default, the SDK required only when configured
(a clear error at start-up without it), nothing a tracker does can fail a run, and the W&B
adapter makes the SDK's calls (checked against a fake with its call shape, and against the real
signatures where wandb is installed). The MLflow adapter runs for real in
tests/integration/test_tracking_mlflow.py."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eval_service.config import EvalServiceSettings
from pydantic import ValidationError
from trainer_service.config import TrainerServiceSettings
from tutorlab.settings import GLOBAL_ENV
from tutorlab.tracking import (
    RunSpec,
    RunStatus,
    Tracking,
    TrackingRun,
    TrackingUnavailable,
    flatten,
    numeric,
    tracking_for,
)
from tutorlab.tracking.wandb_tracker import WandbTracker

SPEC = RunSpec(
    key="bench_0123456789abcdef",
    name="base/bench_0123456789abcdef",
    kind="benchmark",
    group="base",
    params={"config": {"tasks": ["gsm8k", "math"], "limit": 5}, "scorer_version": "2.0.0"},
    tags={"tutorlab.label": "base"},
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No tracking variable from the outer environment."""
    for name in list(os.environ):
        if name in GLOBAL_ENV.values() or name.startswith(("EVAL_SERVICE_", "TRAINER_SERVICE_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)


# -- settings and start-up ------------------------------------------------------------------


def test_tracking_is_off_by_default_and_read_from_the_sdks_own_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert EvalServiceSettings().tracking == "off"
    assert not tracking_for(EvalServiceSettings()).enabled
    monkeypatch.setenv("TUTORLAB_TRACKING", "mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "tutors")
    monkeypatch.setenv("WANDB_PROJECT", "tutor-runs")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("TRAINER_SERVICE_TRACKING", "wandb")  # a service's own name wins
    evals, trainer = EvalServiceSettings(), TrainerServiceSettings()
    assert (evals.tracking, evals.mlflow_tracking_uri, evals.mlflow_experiment_name) == (
        "mlflow",
        "http://mlflow.example:5000",
        "tutors",
    )
    assert (trainer.tracking, trainer.wandb_project, trainer.wandb_mode) == (
        "wandb",
        "tutor-runs",
        "offline",
    )


def test_an_unknown_tracking_backend_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTORLAB_TRACKING", "tensorboard")
    with pytest.raises(ValidationError) as caught:
        EvalServiceSettings()
    assert [e["loc"] for e in caught.value.errors()] == [("tracking",)]


@pytest.mark.parametrize(("backend", "module"), [("mlflow", "mlflow"), ("wandb", "wandb")])
def test_a_tracker_without_its_sdk_stops_start_up_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, backend: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    with pytest.raises(TrackingUnavailable) as caught:
        tracking_for(EvalServiceSettings(tracking=backend))
    message = str(caught.value)
    assert f"TUTORLAB_TRACKING={backend}" in message
    assert f"tutorlab[{backend}]" in message and f"--extra {backend}" in message


async def test_the_eval_worker_does_not_start_with_a_tracker_it_cannot_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eval_service.worker import resources_hooks

    monkeypatch.setitem(sys.modules, "wandb", None)
    startup, _ = resources_hooks()
    resources: dict[str, Any] = {}
    with pytest.raises(TrackingUnavailable, match="tutorlab\\[wandb\\]"):
        await startup(EvalServiceSettings(tracking="wandb"), resources)
    assert resources == {}  # nothing was started before the check


def test_a_file_store_mlflow_refuses_is_refused_at_start_up(tmp_path: Path) -> None:
    settings = EvalServiceSettings(
        tracking="mlflow", mlflow_tracking_uri=f"file://{tmp_path / 'mlruns'}"
    )
    with pytest.raises(TrackingUnavailable, match="MLFLOW_TRACKING_URI: MLflow refuses it"):
        tracking_for(settings)


# -- values ---------------------------------------------------------------------------------


def test_params_are_flattened_and_metrics_are_the_finite_numbers() -> None:
    assert flatten(
        {"a": {"b": 1, "c": None, "d": {"e": "x"}}, "l": ["gsm8k", "math"], "m": [{"k": 1}]}
    ) == {"a.b": 1, "a.d.e": "x", "l": "gsm8k,math", "m": '[{"k": 1}]'}
    assert numeric(
        {"loss": 0.5, "step": 3, "ok": True, "skip": "max_cost_usd", "none": None, "nan": 1e999}
    ) == {"loss": 0.5, "step": 3.0}


# -- a tracker that fails never fails the run -------------------------------------------------


class RecordingRun:
    def __init__(self, fail_on: str | None = None, block: threading.Event | None = None) -> None:
        self.run_id = "r1"
        self.calls: list[tuple[str, Any]] = []
        self.fail_on = fail_on
        self.block = block

    def _call(self, name: str, arg: Any) -> None:
        self.calls.append((name, arg))
        if self.block is not None and name == "log_metrics":
            self.block.wait(30)
        if name == self.fail_on:
            raise ConnectionError("cannot reach https://alice:s3cret@mlflow.example/api")

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self._call("log_metrics", (dict(metrics), step))

    def log_artifact(self, path: Path) -> None:
        self._call("log_artifact", path)

    def finish(self, status: RunStatus) -> None:
        self._call("finish", status)


class RecordingTracker:
    backend = "mlflow"

    def __init__(self, run: RecordingRun) -> None:
        self.run = run
        self.started: list[RunSpec] = []

    def start_run(self, spec: RunSpec) -> TrackingRun:
        self.started.append(spec)
        return self.run


async def test_a_failing_call_is_warned_once_recorded_and_ends_the_tracking(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    run = RecordingRun(fail_on="log_metrics")
    tracked = await Tracking(RecordingTracker(run)).start(SPEC)
    with caplog.at_level(logging.WARNING, logger="tutorlab.tracking"):
        await tracked.metrics({"loss": 1.0, "note": "x"}, step=1)  # raises inside: swallowed
        await tracked.metrics({"loss": 0.5}, step=2)
        await tracked.artifact(tmp_path / "benchmark_results.json")
        await tracked.finish("finished")
    assert run.calls == [("log_metrics", ({"loss": 1.0}, 1))]  # nothing after the failure
    record = tracked.record()
    assert record["tracking"] == {"backend": "mlflow", "run_id": "r1"}
    error = record["tracking_error"]
    assert error.startswith("mlflow log_metrics: ConnectionError: cannot reach https://***@")
    assert "s3cret" not in error and "alice" not in error  # a URL's credentials never shown
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and SPEC.key in warnings[0].getMessage()
    assert "s3cret" not in caplog.text


async def test_a_call_that_hangs_is_given_up_on_after_the_timeout() -> None:
    release = threading.Event()
    run = RecordingRun(block=release)
    try:
        tracked = await Tracking(RecordingTracker(run), timeout_s=0.2).start(SPEC)
        await asyncio.wait_for(tracked.metrics({"loss": 1.0}, step=1), 10)
        await tracked.finish("finished")
    finally:
        release.set()
    assert tracked.error == "mlflow log_metrics: no answer in 0.2 s"
    assert [name for name, _ in run.calls] == ["log_metrics"]


async def test_a_tracker_that_cannot_start_leaves_an_inert_run() -> None:
    class Refusing(RecordingTracker):
        def start_run(self, spec: RunSpec) -> TrackingRun:
            raise PermissionError("403 Forbidden")

    tracked = await Tracking(Refusing(RecordingRun())).start(SPEC)
    await tracked.metrics({"loss": 1.0}, step=1)
    await tracked.finish("failed")
    assert tracked.record() == {
        "tracking": {"backend": "mlflow", "run_id": None},
        "tracking_error": "mlflow start: PermissionError: 403 Forbidden",
    }


async def test_tracking_off_calls_nothing_and_records_nothing() -> None:
    tracked = await Tracking.off().start(SPEC)
    await tracked.metrics({"loss": 1.0}, step=1)
    await tracked.finish("finished")
    assert tracked.run is None and tracked.record() == {}


# -- the W&B adapter ------------------------------------------------------------------------


class FakeWandbRun:
    """The SDK's Run, as far as the adapter uses it."""

    def __init__(self, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]], id: str) -> None:
        self.id = id
        self.calls = calls

    def log(self, data: dict[str, Any], step: int | None = None) -> None:
        self.calls.append(("log", (data,), {"step": step}))

    def log_artifact(self, artifact_or_path: Any, name: str | None = None, type: Any = None) -> Any:
        self.calls.append(("log_artifact", (artifact_or_path,), {"name": name, "type": type}))

    def finish(self, exit_code: int | None = None) -> None:
        self.calls.append(("finish", (), {"exit_code": exit_code}))


@pytest.fixture
def fake_wandb(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple, dict]]]:
    calls: list[tuple[str, tuple, dict]] = []
    module = ModuleType("wandb")

    def init(**kwargs: Any) -> FakeWandbRun:
        calls.append(("init", (), kwargs))
        return FakeWandbRun(calls, kwargs["id"])

    module.init = init  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wandb", module)
    yield calls


async def test_the_wandb_adapter_makes_the_sdks_calls(
    fake_wandb: list[tuple[str, tuple, dict]], tmp_path: Path
) -> None:
    settings = EvalServiceSettings(
        tracking="wandb", wandb_project="tutors", wandb_mode="offline", data_dir=tmp_path
    )
    tracking = tracking_for(settings)
    assert isinstance(tracking.tracker, WandbTracker)
    tracked = await tracking.start(SPEC)
    await tracked.metrics({"gsm8k.accuracy": 0.8, "skipped": "max_cost_usd"}, step=0)
    await tracked.artifact(tmp_path / "benchmark_results.json")
    await tracked.finish("failed")
    assert tracked.record() == {"tracking": {"backend": "wandb", "run_id": SPEC.key}}
    assert fake_wandb == [
        (
            "init",
            (),
            {
                "project": "tutors",
                "id": SPEC.key,
                "name": SPEC.name,
                "group": "base",
                "job_type": "benchmark",
                "config": {**SPEC.params, "tutorlab": {"tutorlab.label": "base"}},
                "mode": "offline",
                "dir": str(tmp_path),
                "resume": "allow",
                "reinit": "create_new",
            },
        ),
        ("log", ({"gsm8k.accuracy": 0.8},), {"step": 0}),
        (
            "log_artifact",
            (tmp_path / "benchmark_results.json",),
            {"name": f"{SPEC.key}-benchmark_results", "type": "benchmark"},
        ),
        ("finish", (), {"exit_code": 1}),
    ]


@pytest.fixture
def wandb_signatures() -> dict[str, inspect.Signature]:
    """The installed SDK's signatures of the calls the adapter makes (skips without wandb)."""
    real = pytest.importorskip("wandb")
    from wandb.sdk.wandb_run import Run

    methods: dict[str, Callable[..., Any]] = {
        "log": Run.log,
        "log_artifact": Run.log_artifact,
        "finish": Run.finish,
    }
    return {"init": inspect.signature(real.init)} | {
        name: inspect.signature(method) for name, method in methods.items()
    }


async def test_the_wandb_calls_fit_the_installed_sdks_signatures(
    wandb_signatures: dict[str, inspect.Signature],
    fake_wandb: list[tuple[str, tuple, dict]],
    tmp_path: Path,
) -> None:
    """Where wandb is installed (the extra), every call the fake recorded binds to the real
    SDK's signature: the fake cannot drift from the SDK unnoticed."""
    settings = EvalServiceSettings(tracking="wandb", data_dir=tmp_path)
    tracked = await tracking_for(settings).start(SPEC)
    await tracked.metrics({"loss": 1.0}, step=3)
    await tracked.artifact(tmp_path / "x.json")
    await tracked.finish("finished")
    assert [name for name, _, _ in fake_wandb] == ["init", "log", "log_artifact", "finish"]
    for name, args, kwargs in fake_wandb:
        signature = wandb_signatures[name]
        self_arg = ("run",) if name != "init" else ()
        signature.bind(*self_arg, *args, **kwargs)  # raises TypeError on a call it does not take
