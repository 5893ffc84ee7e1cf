"""Job ``training``: one run from its config to a registered, benchmarked, compared model.

Phases, each reported in the job's partial result (``phase``):
``preparing`` (backend, capabilities, data, rendering) → ``training`` (the method's loop; a
taken-over job resumes from its last ``weights/`` checkpoint and data cursor) → ``saving`` (the
final state and sampler weights) → ``registering`` (tutor-api) → ``benchmarking`` (eval-service,
with ``benchmark_after``) → ``done``. The experiment folder is written as the run goes, and its
README rendered at the end (also when the run is cancelled or stopped by its budget).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from tutorlab.jobs.runtime import JobCancelled, JobContext, JobFailed
from tutorlab.tracking import TrackedRun

from trainer_service.backends.protocol import (
    BackendConfigError,
    BackendError,
    TrainingBackend,
    TrainingRun,
)
from trainer_service.base_models import UnknownBaseModel
from trainer_service.config_sections import DataRef as ConfigDataRef
from trainer_service.data_refs import (
    DataRef,
    DataRefError,
    resolve_ref,
    tokenizer_source,
)
from trainer_service.experiment import Experiment, curve, slug
from trainer_service.methods.rl import (
    OnPolicySettings,
    rl_steps,
    run_onpolicy_distillation,
    run_rlvr,
)
from trainer_service.methods.sft import SftSettings, eval_nll, run_sft, sft_steps
from trainer_service.monitor import make_evaluator
from trainer_service.pipeline import Pipeline, PipelineError
from trainer_service.prices import ModelPrice, PriceTable, UnknownPrice
from trainer_service.rendering import Renderer
from trainer_service.resources import TrainerResources, trainer_resources
from trainer_service.rewards import RewardWeights
from trainer_service.schemas import TrainingJobParams
from trainer_service.session import BudgetExhausted, Totals, TrainingSession
from trainer_service.tracking import tracked_status, training_spec
from trainer_service.training_config import TrainingConfig
from trainer_service.training_data import InputError, TrainingData

log = logging.getLogger("trainer_service.train")


def run_name(config: TrainingConfig, training_id: str) -> str:
    """The run's name: the experiment folder and the registered model. The config's ``name``
    (or method and base model) and the training id's first 8 hex digits, so a config run twice
    gives two experiments and two models instead of one overwriting the other."""
    stem = config.name or f"{config.method}-{config.model.base_model.split('/')[-1]}"
    return slug(f"{stem.replace(':', '-')}-{training_id.split('_', 1)[-1][:8]}")


class TrainingJob:
    def __init__(
        self, ctx: JobContext, resources: TrainerResources, config: TrainingConfig
    ) -> None:
        self.ctx = ctx
        self.res = resources
        self.settings = resources.settings
        self.config = config
        self.name = run_name(config, ctx.job_id)
        self.base_model_id = config.resolved_base_model
        self.experiment = Experiment(self.settings.experiments_dir, config.method, self.name)
        self.phase = "preparing"
        self.total_steps: int | None = None
        self.session: TrainingSession | None = None
        self.data = TrainingData(config, self.settings, resources.http)
        #: the run in MLflow / W&B (inert until :meth:`run` starts it, and when tracking is off)
        self.tracked = TrackedRun("off", ctx.job_id, 0)
        self.summary: dict[str, Any] = {
            "training_id": ctx.job_id,
            "name": self.name,
            "method": config.method,
            "backend": config.backend,
            "base_model": config.model.base_model,
            "base_model_id": self.base_model_id,
            "lora_rank": config.model.lora_rank,
            "date": datetime.now(UTC).date().isoformat(),
            "hyperparameters": config.to_yaml(),
            "data": self.data.record,
            "status": "running",
            "stopped_reason": None,
            "steps_done": 0,
            "total_steps": None,
            "totals": Totals().as_dict(),
            "sampler_path": None,
            "registered_model": None,
            "benchmark_id": None,
            "benchmark_suite": config.benchmark_after.suite if config.benchmark_after else None,
            "benchmark_status": None,
            "compare_to": config.benchmark_after.compare_to if config.benchmark_after else None,
            "comparison_error": None,
            "curve": None,
        }

    # -- reporting -------------------------------------------------------------------------

    def partial(self) -> dict[str, Any]:
        totals = self.session.totals if self.session else Totals()
        return {
            "name": self.name,
            "base_model": self.base_model_id,
            "phase": self.phase,
            "cost_usd": round(totals.cost_usd, 6),
            "totals": totals.as_dict(),
            "experiment": str(self.experiment.path),
            "stopped_reason": self.summary["stopped_reason"],
            "sampler_path": self.summary["sampler_path"],
            "registered_model": self.summary["registered_model"],
            "benchmark_id": self.summary["benchmark_id"],
        }

    async def report(self, phase: str | None = None, step: int | None = None) -> None:
        if phase is not None:
            self.phase = phase
        done = step if step is not None else (self.session.last_step if self.session else 0)
        await self.ctx.store.set_progress(self.ctx.job_id, done, self.total_steps, self.partial())

    async def _on_step(self, step: int, metrics: dict[str, Any]) -> None:
        self.summary["steps_done"] = step
        await self.report(step=step)
        await self.tracked.metrics(metrics, step)

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        self.experiment.write_config(self.config.model_dump(mode="json"))
        await self.report("preparing")
        self.tracked = await self.res.tracking.start(
            training_spec(self.ctx.job_id, self.name, self.config, self.base_model_id)
        )
        backend: TrainingBackend | None = None
        try:
            backend = self._backend()
            return await self._run_with(backend)
        except JobCancelled:
            self.summary["status"] = "cancelled"
            await self._write_record()
            raise
        except InputError as exc:
            self.summary["status"] = f"failed: {exc}"
            await self._write_record()
            raise JobFailed(str(exc), self.partial()) from exc
        except JobFailed as exc:
            self.summary["status"] = f"failed: {exc.message}"
            await self._write_record()
            raise
        finally:
            if backend is not None:
                await backend.aclose()

    def _backend(self) -> TrainingBackend:
        try:
            return self.res.backend_factory(self.config, self.settings)
        except BackendConfigError as exc:
            raise JobFailed(str(exc), self.partial()) from exc

    async def _run_with(self, backend: TrainingBackend) -> dict[str, Any]:
        await self._check_capabilities(backend)
        pricing = self._pricing()
        renderer = await self._renderer()
        run, start_step, totals = await self._open_run(backend)
        try:
            self.session = TrainingSession(
                ctx=self.ctx,
                run=run,
                store=self.res.runs,
                experiment=self.experiment,
                pricing=pricing,
                total_steps=0,
                save_every=self.config.training.save_every,
                checkpoint_ttl_s=self.config.training.checkpoint_ttl_s,
                max_cost_usd=self.config.max_cost_usd,
                start_step=start_step,
                totals=totals,
                on_progress=self._on_step,
            )
            steps = await self._train(backend, renderer)
            await self._finish_weights(steps)
        finally:
            await run.aclose()
        await self._after_training()
        self.phase = "done"
        self.summary["status"] = "succeeded"
        done = self.summary["steps_done"]
        self.ctx.final_progress = (done, self.total_steps or done)
        await self._write_record()
        return {
            **self.partial(),
            "steps": self.summary["steps_done"],
            "summary_file": str(self.experiment.path / "experiment.json"),
        }

    async def _check_capabilities(self, backend: TrainingBackend) -> None:
        try:
            models = await backend.capabilities()
        except BackendError as exc:
            raise JobFailed(f"backend {self.config.backend}: {exc}", self.partial()) from exc
        found = next((m for m in models if m.name == self.base_model_id), None)
        if found is None:
            known = ", ".join(sorted(m.name for m in models if m.trainable)) or "none"
            raise JobFailed(
                f"model.base_model: {self.base_model_id} is not offered by the "
                f"{self.config.backend} backend (trainable: {known})",
                self.partial(),
            )
        if not found.trainable:
            raise JobFailed(
                f"model.base_model: {self.base_model_id} cannot be trained there", self.partial()
            )
        limit = found.max_context_length
        if limit is not None and self.config.training.max_length > limit:
            raise JobFailed(
                f"training.max_length: {self.config.training.max_length} is over "
                f"{self.base_model_id}'s context length {limit}",
                self.partial(),
            )

    def _pricing(self) -> ModelPrice:
        table = PriceTable.default()
        try:
            return table.price_for(self.base_model_id)
        except UnknownPrice as exc:
            if self.config.backend == "simulated":
                return table.price_for("Qwen/Qwen3-8B")
            raise JobFailed(f"no price for {self.base_model_id}: {exc}", self.partial()) from exc

    async def _renderer(self) -> Renderer:
        try:
            source = tokenizer_source(self.config, self.settings)
        except DataRefError as exc:
            raise JobFailed(f"{exc.field}: {exc}", self.partial()) from exc
        try:
            return await asyncio.to_thread(Renderer.load, source)
        except Exception as exc:
            raise JobFailed(
                f"model.tokenizer: cannot load the chat template's tokenizer from {source!r} "
                f"({type(exc).__name__}: {exc}); set model.tokenizer or "
                "TRAINER_SERVICE_TOKENIZER_DIR to a directory with the tokenizer files",
                self.partial(),
            ) from exc

    async def _open_run(self, backend: TrainingBackend) -> tuple[TrainingRun, int, Totals]:
        point = await self.res.runs.resume_point(self.ctx.job_id)
        try:
            if point is not None:
                run = await backend.resume_run(point.path)
                await self.res.runs.drop_metrics_after(self.ctx.job_id, point.step)
                await self._rewrite_experiment_files()
                log.info(
                    "training %s resumes at step %d from %s",
                    self.ctx.job_id,
                    point.step,
                    point.path,
                )
                return run, point.step, Totals.of(point.totals)
            if self.config.model.init_from:
                run = await backend.resume_run(self.config.model.init_from, with_optimizer=False)
                if run.base_model != self.base_model_id:
                    raise JobFailed(
                        f"model.init_from: {self.config.model.init_from} was trained on "
                        f"{run.base_model}, not {self.base_model_id}",
                        self.partial(),
                    )
                return run, 0, Totals()
            run = await backend.create_run(
                self.base_model_id,
                lora_rank=self.config.model.lora_rank,
                seed=self.config.training.seed,
                metadata={
                    "training_id": self.ctx.job_id,
                    "name": self.name,
                    "method": self.config.method,
                },
            )
            return run, 0, Totals()
        except BackendError as exc:
            raise JobFailed(f"backend {self.config.backend}: {exc}", self.partial()) from exc

    async def _rewrite_experiment_files(self) -> None:
        metrics = await self.res.runs.metrics(self.ctx.job_id)
        checkpoints = await self.res.runs.checkpoints(self.ctx.job_id)
        self.experiment.rewrite(
            [{"step": m.step, **m.metrics} for m in metrics],
            [
                {"name": c.name, "kind": c.kind, "path": c.path, "step": c.step, "totals": c.totals}
                for c in checkpoints
            ],
        )

    # -- training ----------------------------------------------------------------------------

    async def _train(self, backend: TrainingBackend, renderer: Renderer) -> int:
        session = self.session
        assert session is not None
        method = self.config.method
        train_ref, eval_ref = self.data.refs()
        eval_rendered: list[tuple[list[int], list[float]]] = []
        if eval_ref is not None:
            eval_rendered = await self.data.rendered(eval_ref, renderer)
        monitor = await self.data.monitor_slice()
        if self.data.monitor_error:
            self.summary["monitor_error"] = self.data.monitor_error
        batch = self.config.step_batch_size

        async def nll() -> float | None:
            return await eval_nll(session, eval_rendered, batch)

        evaluate = make_evaluator(
            session,
            renderer,
            monitor,
            max_tokens=self.config.monitor.max_tokens,
            temperature=self.config.monitor.temperature,
            eval_nll=nll if eval_rendered else None,
            eval_tokens=sum(len(tokens) - 1 for tokens, _ in eval_rendered),
        )
        try:
            if method == "rlvr":
                return await self._rlvr(session, renderer, evaluate)
            if (
                method == "distillation"
                and self.config.distillation
                and self.config.distillation.mode == "on_policy"
            ):
                return await self._on_policy(session, backend, renderer, train_ref, evaluate)
            if method == "distillation":
                train_ref = await self._teacher_set()
            if train_ref is None:
                raise JobFailed("data.train_file: required for SFT", self.partial())
            train = await self.data.rendered(train_ref, renderer)
            settings = SftSettings(batch_size=batch, **self._stepping())
            self._set_total(len(sft_steps(len(train), settings)))
            await self.report("training")
            return await run_sft(session, train, settings, evaluate=evaluate)
        except BudgetExhausted as exc:
            self.summary["stopped_reason"] = str(exc)
            return session.last_step

    def _set_total(self, total: int) -> None:
        self.total_steps = total
        self.summary["total_steps"] = total
        assert self.session is not None
        self.session.total_steps = total

    def _stepping(self) -> dict[str, Any]:
        """What every method's loop takes from ``training``: epochs, schedule, Adam."""
        t = self.config.training
        return {
            "num_epochs": t.num_epochs,
            "learning_rate": t.learning_rate,
            "lr_schedule": t.lr_schedule,
            "warmup_steps": t.warmup_steps,
            "eval_every": t.eval_every,
            "seed": t.seed,
            "max_steps": t.max_steps,
            "beta1": t.adam.beta1,
            "beta2": t.adam.beta2,
            "eps": t.adam.eps,
        }

    def _on_policy_settings(
        self, group_size: int, groups: int, max_tokens: int, temperature: float
    ) -> OnPolicySettings:
        return OnPolicySettings(
            group_size=group_size,
            groups_per_batch=groups,
            max_tokens=max_tokens,
            temperature=temperature,
            **self._stepping(),
        )

    async def _rlvr(self, session: TrainingSession, renderer: Renderer, evaluate: Any) -> int:
        options = self.config.rlvr
        assert options is not None
        problems = await self.data.rlvr_problems()
        s = self._on_policy_settings(
            options.group_size, options.groups_per_batch, options.max_tokens, options.temperature
        )
        self._set_total(len(rl_steps(len(problems), s)))
        verifier = await self.res.verifier() if any(p.kind == "math" for p in problems) else None
        w = options.rewards
        weights = RewardWeights(
            correct=w.correct, format=w.format, no_reveal=w.no_reveal, asks_question=w.asks_question
        )
        await self.report("training")
        return await run_rlvr(
            session, renderer, problems, s, weights, verifier=verifier, evaluate=evaluate
        )

    async def _on_policy(
        self,
        session: TrainingSession,
        backend: TrainingBackend,
        renderer: Renderer,
        train_ref: DataRef | None,
        evaluate: Any,
    ) -> int:
        options = self.config.distillation
        assert options is not None
        if train_ref is None:
            raise JobFailed(
                "data.train_file: on-policy distillation samples its prompts from it",
                self.partial(),
            )
        examples = await self.data.examples(train_ref)
        prompts = [
            renderer.generation_prompt(renderer.messages_for(example)[:-1]) for example in examples
        ]
        teacher_name = self.config.resolved_teacher
        assert teacher_name is not None
        try:
            teacher = await backend.sampler_for(teacher_name)
        except BackendError as exc:
            raise JobFailed(f"distillation.teacher: {exc}", self.partial()) from exc
        s = self._on_policy_settings(
            options.samples_per_prompt or 4,
            self.config.step_batch_size,
            options.max_tokens or 512,
            options.temperature or 1.0,
        )
        self._set_total(len(rl_steps(len(prompts), s)))
        await self.report("training")
        return await run_onpolicy_distillation(
            session,
            renderer,
            prompts,
            teacher,
            s,
            kl_coef=options.kl_coef or 1.0,
            evaluate=evaluate,
        )

    async def _teacher_set(self) -> DataRef:
        """Off-policy distillation: the data-service's teacher builder answers the problems
        with the registered teacher; its set is the SFT data."""
        options = self.config.distillation
        assert options is not None
        await self.report("building teacher data")
        pipeline = Pipeline(self.settings, self.res.http)
        try:
            set_id = await pipeline.build_teacher_set(
                options.teacher_build_request(), idempotency_key=f"{self.ctx.job_id}:teacher-set"
            )
        except PipelineError as exc:
            raise JobFailed(f"distillation.teacher_set: {exc}", self.partial()) from exc
        self.summary["teacher_set"] = set_id
        return resolve_ref(
            "data.train_file", ConfigDataRef("training_set", set_id, "train"), self.settings
        )

    # -- after training ----------------------------------------------------------------------

    async def _finish_weights(self, steps: int) -> None:
        session = self.session
        assert session is not None
        done = session.last_step
        self.summary["steps_done"] = done
        await self.report("saving", step=done)
        # a run taken over after its final save (e.g. while registering) keeps the weights it
        # saved: the same sampler path, which may already be registered
        saved = {(c.kind, c.final): c for c in await self.res.runs.checkpoints(self.ctx.job_id)}
        final_state, final_sampler = saved.get(("state", True)), saved.get(("sampler", True))
        if not session.last_save_final and not (final_state and final_state.step == done):
            await session.save_state(done, final=True)  # the weights a team keeps never expire
        if final_sampler is not None and final_sampler.step == done:
            self.summary["sampler_path"] = final_sampler.path
        else:
            self.summary["sampler_path"] = await session.save_sampler(done)
        self.summary["totals"] = session.totals.as_dict()
        if session.stopped_reason:
            self.summary["stopped_reason"] = session.stopped_reason

    async def _after_training(self) -> None:
        sampler = self.summary["sampler_path"]
        pipeline = Pipeline(self.settings, self.res.http)
        await self.report("registering")
        metadata = {
            "training_id": self.ctx.job_id,
            "run": self.name,
            "method": self.config.method,
            "backend": self.config.backend,
            "base_model": self.base_model_id,
            "data_sha256": (self.summary["data"].get("train") or {}).get("sha256"),
            "experiment": str(self.experiment.path),
        }
        name = slug(self.name)
        try:
            await pipeline.register(name, sampler, metadata, backend=self.config.backend)
            self.summary["registered_model"] = name
            self.summary["probe"] = await pipeline.probe(name)
        except PipelineError as exc:
            raise JobFailed(f"registration: {exc}", self.partial()) from exc
        after = self.config.benchmark_after
        if after is None:
            return
        await self.report("benchmarking")
        try:
            run_id = await pipeline.start_benchmark(
                name,
                after.suite,
                after.compare_to,
                label=name,
                idempotency_key=f"{self.ctx.job_id}:benchmark",
            )
            self.summary["benchmark_id"] = run_id
            await self.report("benchmarking")
            outcome = await pipeline.wait_benchmark(run_id, self.settings.benchmark_wait_s)
        except PipelineError as exc:
            raise JobFailed(f"benchmark_after: {exc}", self.partial()) from exc
        self.summary["benchmark_status"] = outcome.status + (
            f" ({outcome.error})" if outcome.error else ""
        )
        self.summary["comparison_error"] = outcome.comparison_error
        if outcome.results is not None:
            self.experiment.write_json("benchmark_results.json", outcome.results)
        if outcome.comparison is not None:
            self.experiment.write_json("comparison.json", outcome.comparison)

    async def _write_record(self) -> None:
        if self.session is not None:
            self.summary["totals"] = self.session.totals.as_dict()
            self.summary["steps_done"] = max(self.summary["steps_done"], self.session.last_step)
        self.summary["curve"] = curve(await self.res.runs.metrics(self.ctx.job_id))
        await self.tracked.finish(tracked_status(self.summary["status"]))
        self.summary |= self.tracked.record()
        self.experiment.write_json("experiment.json", self.summary)
        await self._rewrite_experiment_files()
        self.experiment.render_readme(
            {
                **self.summary,
                "benchmark_results": self.experiment.read_json("benchmark_results.json"),
                "comparison": self.experiment.read_json("comparison.json"),
            }
        )


async def run_training(ctx: JobContext) -> dict[str, Any]:
    params: TrainingJobParams = ctx.params
    try:
        config = TrainingConfig.model_validate(params.config)
    except (ValidationError, UnknownBaseModel) as exc:
        raise JobFailed(f"config: {exc}") from exc
    return await TrainingJob(ctx, trainer_resources(ctx), config).run()
