"""TinkerBackend without a network: a fake connector hands it clients with the SDK's method
signatures (checked against the real SDK below) and the SDK's own awaitable futures. Covered: the
key checks, the connect timeout (the loop stays free), each protocol call's mapping onto the SDK,
error mapping, and that no other trainer module imports the SDK's clients."""

from __future__ import annotations

import ast
import asyncio
import inspect
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import pytest
import tinker
from tinker import types
from tinker.lib.public_interfaces.api_future import AwaitableConcurrentFuture
from trainer_service.backends import (
    BackendConfigError,
    BackendError,
    SimulatedBackend,
    SimulatedLatencies,
    TinkerBackend,
    TrainingBackend,
    check_api_key,
    make_backend,
)

KEY = "tml-test-0123456789abcdef"
SRC = Path(__file__).resolve().parents[2] / "services/trainer-service/src/trainer_service"


def ready(value: Any) -> AwaitableConcurrentFuture[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return AwaitableConcurrentFuture(future)


def failing(exc: BaseException) -> AwaitableConcurrentFuture[Any]:
    future: Future[Any] = Future()
    future.set_exception(exc)
    return AwaitableConcurrentFuture(future)


def http_error(cls: type[tinker.APIStatusError], status: int) -> tinker.APIStatusError:
    response = httpx.Response(status, request=httpx.Request("POST", "https://tinker.test/x"))
    return cls("refused", response=response, body=None)


class FakeSampling:
    def __init__(self, calls: list[tuple[str, Any]], name: str) -> None:
        self.calls = calls
        self.name = name

    def sample(
        self,
        prompt: types.ModelInput,
        num_samples: int,
        sampling_params: types.SamplingParams,
        include_prompt_logprobs: bool = False,
        topk_prompt_logprobs: int = 0,
    ) -> AwaitableConcurrentFuture[types.SampleResponse]:
        self.calls.append(("sample", (self.name, prompt.to_ints(), num_samples, sampling_params)))
        seq = types.SampledSequence(
            stop_reason="stop", sequence_id="s-0", _tokens_list=[7, 8], _logprobs_list=[-0.5, -1]
        )
        return ready(types.SampleResponse(sequences=[seq]))

    def compute_logprobs(
        self, prompt: types.ModelInput, prompt_logprobs_last_n: int | None = None
    ) -> AwaitableConcurrentFuture[list[float | None]]:
        self.calls.append(("compute_logprobs", (self.name, prompt.to_ints())))
        return ready([None, -0.25])


class FakeTraining:
    def __init__(self, calls: list[tuple[str, Any]], model_id: str, base_model: str) -> None:
        self.calls = calls
        self.model_id = model_id
        self.base_model = base_model
        #: futures the test completes by hand, to see that submitting does not wait
        self.pending: list[Future[Any]] = []

    def _later(self) -> AwaitableConcurrentFuture[Any]:
        future: Future[Any] = Future()
        self.pending.append(future)
        return AwaitableConcurrentFuture(future)

    def get_info(self) -> types.GetInfoResponse:
        return types.GetInfoResponse(
            model_id=self.model_id, model_data=types.ModelData(model_name=self.base_model)
        )

    def forward_backward(
        self,
        data: list[types.Datum],
        loss_fn: types.LossFnType,
        loss_fn_config: dict[str, float | str] | None = None,
    ) -> AwaitableConcurrentFuture[types.ForwardBackwardOutput]:
        self.calls.append(("forward_backward", (len(data), loss_fn)))
        return self._later()

    def forward(
        self,
        data: list[types.Datum],
        loss_fn: types.LossFnType,
        loss_fn_config: dict[str, float | str] | None = None,
    ) -> AwaitableConcurrentFuture[types.ForwardBackwardOutput]:
        self.calls.append(("forward", (len(data), loss_fn)))
        return ready(types.ForwardBackwardOutput("ArrayRecord", [], {"loss:sum": 3.5}))

    def optim_step(
        self, optim_params: types.AdamParams | None = None, *, adam_params: Any = None
    ) -> AwaitableConcurrentFuture[types.OptimStepResponse]:
        self.calls.append(("optim_step", optim_params))
        return self._later()

    def save_state(
        self,
        name: str,
        ttl_seconds: int | None = None,
        overwrite: bool = False,
        user_metadata: dict[str, str] | None = None,
    ) -> AwaitableConcurrentFuture[types.SaveWeightsResponse]:
        self.calls.append(("save_state", (name, ttl_seconds)))
        return ready(types.SaveWeightsResponse(path=f"tinker://{self.model_id}/weights/{name}"))

    def save_weights_for_sampler(
        self, name: str, ttl_seconds: int | None = None, user_metadata: dict[str, str] | None = None
    ) -> AwaitableConcurrentFuture[types.SaveWeightsForSamplerResponse]:
        self.calls.append(("save_weights_for_sampler", (name, ttl_seconds)))
        path = f"tinker://{self.model_id}/sampler_weights/{name}"
        return ready(types.SaveWeightsForSamplerResponse(path=path))

    def save_weights_and_get_sampling_client(
        self, name: str | None = None, retry_config: Any = None
    ) -> AwaitableConcurrentFuture[FakeSampling]:
        self.calls.append(("save_weights_and_get_sampling_client", ()))
        return ready(FakeSampling(self.calls, f"ephemeral:{self.model_id}"))


class FakeService:
    def __init__(self, calls: list[tuple[str, Any]], block: threading.Event | None) -> None:
        self.calls = calls
        self.block = block
        self.runs: list[FakeTraining] = []

    def _run(self, base_model: str) -> FakeTraining:
        run = FakeTraining(self.calls, f"session-1:train:{len(self.runs)}", base_model)
        self.runs.append(run)
        return run

    def create_lora_training_client(
        self,
        base_model: str,
        rank: int = 32,
        seed: int | None = None,
        train_mlp: bool = True,
        train_attn: bool = True,
        train_unembed: bool = True,
        user_metadata: dict[str, str] | None = None,
        optimizer: Any = None,
    ) -> AwaitableConcurrentFuture[FakeTraining]:
        if self.block is not None:  # the SDK creating its session against a dead server
            self.block.wait()
        self.calls.append(("create_lora_training_client", (base_model, rank, seed, user_metadata)))
        return ready(self._run(base_model))

    def create_training_client_from_state_with_optimizer(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
    ) -> AwaitableConcurrentFuture[FakeTraining]:
        self.calls.append(("create_training_client_from_state_with_optimizer", path))
        return ready(self._run("Qwen/Qwen3-8B"))

    def create_training_client_from_state(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
        optimizer: Any = None,
    ) -> AwaitableConcurrentFuture[FakeTraining]:
        self.calls.append(("create_training_client_from_state", path))
        return ready(self._run("Qwen/Qwen3-8B"))

    def create_sampling_client(
        self,
        model_path: str | None = None,
        base_model: str | None = None,
        retry_config: Any = None,
        record_stability_info: bool = False,
    ) -> AwaitableConcurrentFuture[FakeSampling]:
        self.calls.append(("create_sampling_client", (model_path, base_model)))
        return ready(FakeSampling(self.calls, model_path or base_model or ""))

    def close(self, status: str, detail: str | None = None) -> AwaitableConcurrentFuture[None]:
        self.calls.append(("close", status))
        return ready(None)


class FakeRest:
    def __init__(self, capabilities: AwaitableConcurrentFuture[Any]) -> None:
        self.capabilities = capabilities

    def get_server_capabilities(self) -> AwaitableConcurrentFuture[Any]:
        return self.capabilities


CAPABILITIES = types.GetServerCapabilitiesResponse(
    supported_models=[
        types.SupportedModel(
            model_name="Qwen/Qwen3-8B", max_context_length=32768, trainable=True, sampleable=True
        ),
        types.SupportedModel(model_name="Qwen/Qwen3-235B-A22B", trainable=False, sampleable=True),
        types.SupportedModel(model_name="meta-llama/Llama-3.1-8B"),  # flags left out
    ]
)


class FakeConnector:
    def __init__(
        self,
        *,
        capabilities: AwaitableConcurrentFuture[Any] | None = None,
        block_connect: threading.Event | None = None,
        block_session: threading.Event | None = None,
    ) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._capabilities = capabilities or ready(CAPABILITIES)
        self.block_connect = block_connect
        self.service = FakeService(self.calls, block_session)

    def rest_client(self, *, api_key: str, base_url: str | None) -> FakeRest:
        if self.block_connect is not None:  # the SDK retrying an unreachable server
            self.block_connect.wait()
        self.calls.append(("rest_client", (api_key, base_url)))
        return FakeRest(self._capabilities)

    def service_client(self, *, api_key: str, base_url: str | None) -> FakeService:
        self.calls.append(("service_client", (api_key, base_url)))
        return self.service


def datum() -> types.Datum:
    return types.Datum(
        model_input=types.ModelInput.from_ints([1, 2, 3]),
        loss_fn_inputs={
            "target_tokens": types.TensorData(data=[2, 3, 4], dtype="int64"),
            "weights": types.TensorData(data=[0.0, 1.0, 1.0], dtype="float32"),
        },
    )


def named(calls: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in calls]


def last(connector: FakeConnector) -> Any:
    """The latest SDK call, as (method, arguments)."""
    return connector.calls[-1]


# ---- the key --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   \n"])
def test_a_missing_key_names_the_variable(key: str | None) -> None:
    with pytest.raises(BackendConfigError, match="TINKER_API_KEY is not set"):
        TinkerBackend(api_key=key, connector=FakeConnector())


@pytest.mark.parametrize("key", ["sk-0123456789", "tml-", "tml-abc def", "TML-abc", "tinker"])
def test_a_malformed_key_names_the_variable_and_is_never_echoed(key: str) -> None:
    with pytest.raises(BackendConfigError, match="TINKER_API_KEY is malformed") as caught:
        TinkerBackend(api_key=key, connector=FakeConnector())
    assert key.strip() not in str(caught.value).replace("'tml-'", "")


def test_good_keys_pass_and_are_stripped() -> None:
    assert check_api_key(f"  {KEY}\n") == KEY
    assert check_api_key("eyJhbGciOiJIUzI1NiJ9.e30.sig").startswith("eyJ")
    backend = TinkerBackend(api_key=KEY, connector=FakeConnector())
    assert KEY not in repr(backend)


# ---- the blocking first connection ------------------------------------------------------------


async def ticking(counter: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        counter[0] += 1
        await asyncio.sleep(0.005)


async def test_an_unreachable_server_times_out_without_blocking_the_loop() -> None:
    never = threading.Event()
    backend = TinkerBackend(
        api_key=KEY, connect_timeout_s=0.2, connector=FakeConnector(block_connect=never)
    )
    ticks, stop = [0], asyncio.Event()
    ticker = asyncio.create_task(ticking(ticks, stop))
    try:
        with pytest.raises(BackendError, match=r"no answer .* within 0.2 s \(connect_timeout_s\)"):
            await backend.create_run("Qwen/Qwen3-8B", lora_rank=8)
        # the event loop kept running while the connection hung in its thread
        assert ticks[0] > 0
    finally:
        stop.set()
        never.set()  # let the abandoned thread end
        await ticker


async def test_a_session_that_never_opens_times_out_too() -> None:
    never = threading.Event()
    connector = FakeConnector(block_session=never)
    backend = TinkerBackend(api_key=KEY, connect_timeout_s=0.2, connector=connector)
    try:
        assert "Qwen/Qwen3-8B" in {m.name for m in await backend.capabilities()}
        with pytest.raises(BackendError, match="create_lora_training_client: no answer"):
            await backend.create_run("Qwen/Qwen3-8B", lora_rank=8)
    finally:
        never.set()


async def test_a_rejected_key_is_a_config_error_naming_the_variable() -> None:
    connector = FakeConnector(capabilities=failing(http_error(tinker.AuthenticationError, 401)))
    backend = TinkerBackend(api_key=KEY, connector=connector)
    with pytest.raises(BackendConfigError, match="rejected the key in TINKER_API_KEY"):
        await backend.capabilities()


# ---- the mapping --------------------------------------------------------------------------


async def test_capabilities_and_base_model_checks() -> None:
    connector = FakeConnector()
    backend = TinkerBackend(api_key=KEY, base_url="https://tinker.test", connector=connector)
    assert isinstance(backend, TrainingBackend)
    caps = {c.name: c for c in await backend.capabilities()}
    assert caps["Qwen/Qwen3-8B"].max_context_length == 32768
    assert not caps["Qwen/Qwen3-235B-A22B"].trainable
    assert caps["meta-llama/Llama-3.1-8B"].trainable  # flags left out: offered for both
    with pytest.raises(BackendConfigError, match="'Qwen/Qwen3-999B' is not offered"):
        await backend.create_run("Qwen/Qwen3-999B", lora_rank=8)
    with pytest.raises(BackendConfigError, match="is not trainable"):
        await backend.create_run("Qwen/Qwen3-235B-A22B", lora_rank=8)
    await backend.capabilities()
    # connected once, with the key and base URL given
    assert named(connector.calls) == ["rest_client", "service_client"]
    assert connector.calls[0] == ("rest_client", (KEY, "https://tinker.test"))


async def test_training_calls_map_onto_the_sdk_and_pipeline() -> None:
    connector = FakeConnector()
    backend = TinkerBackend(api_key=KEY, connector=connector)
    run = await backend.create_run(
        "Qwen/Qwen3-8B", lora_rank=32, seed=7, metadata={"training_id": "t-1"}
    )
    assert run.run_id == "session-1:train:0" and run.base_model == "Qwen/Qwen3-8B"
    assert last(connector) == (
        "create_lora_training_client",
        ("Qwen/Qwen3-8B", 32, 7, {"training_id": "t-1"}),
    )
    sdk = connector.service.runs[0]
    adam = types.AdamParams(learning_rate=2e-4)
    fwd_bwd = await run.submit_forward_backward([datum(), datum()], "cross_entropy")
    optim = await run.submit_optim_step(adam)
    # both were sent before either finished
    assert named(connector.calls)[-2:] == ["forward_backward", "optim_step"]
    assert connector.calls[-2][1] == (2, "cross_entropy") and last(connector)[1] is adam
    output = types.ForwardBackwardOutput("ArrayRecord", [], {"loss:sum": 1.25})
    sdk.pending[0].set_result(output)
    sdk.pending[1].set_result(types.OptimStepResponse(metrics={}))
    assert (await fwd_bwd).metrics["loss:sum"] == 1.25
    assert isinstance(await optim, types.OptimStepResponse)

    assert (await run.forward([datum()])).metrics["loss:sum"] == 3.5
    assert last(connector) == ("forward", (1, "cross_entropy"))
    path = await run.save_state("step-10", ttl_s=7 * 24 * 3600)
    assert path == "tinker://session-1:train:0/weights/step-10"
    assert last(connector) == ("save_state", ("step-10", 604800))
    final = await run.save_sampler_weights("final")
    assert final == "tinker://session-1:train:0/sampler_weights/final"
    assert last(connector) == ("save_weights_for_sampler", ("final", None))
    with pytest.raises(BackendError, match="ttl_s"):
        await run.save_state("short", ttl_s=60)  # Tinker's minimum is an hour

    sampler = await run.sampler()
    assert last(connector)[0] == "save_weights_and_get_sampling_client"
    params = types.SamplingParams(max_tokens=4, temperature=1.0)
    response = await sampler.sample(types.ModelInput.from_ints([1, 2]), 3, params)
    assert response.sequences[0].tokens == [7, 8]
    assert last(connector) == ("sample", ("ephemeral:session-1:train:0", [1, 2], 3, params))
    assert await sampler.compute_logprobs(types.ModelInput.from_ints([1, 2])) == [None, -0.25]


async def test_resume_and_samplers_map_onto_the_sdk() -> None:
    connector = FakeConnector()
    backend = TinkerBackend(api_key=KEY, connector=connector)
    state = "tinker://session-0:train:3/weights/step-40"
    run = await backend.resume_run(state)
    assert last(connector) == ("create_training_client_from_state_with_optimizer", state)
    assert run.base_model == "Qwen/Qwen3-8B"
    await backend.resume_run(state, with_optimizer=False)  # e.g. RL on top of SFT
    assert last(connector) == ("create_training_client_from_state", state)
    with pytest.raises(BackendError, match="resumes only from a weights/ path"):
        await backend.resume_run("tinker://session-0:train:3/sampler_weights/final")
    sampler_path = "tinker://session-0:train:3/sampler_weights/final"
    await backend.sampler_for(sampler_path)
    assert last(connector) == ("create_sampling_client", (sampler_path, None))
    await backend.sampler_for("Qwen/Qwen3-8B")
    assert last(connector) == ("create_sampling_client", (None, "Qwen/Qwen3-8B"))
    with pytest.raises(BackendConfigError, match="not offered"):
        await backend.sampler_for("Qwen/Qwen3-999B")
    await backend.aclose()
    assert last(connector) == ("close", "success")


async def test_sdk_failures_become_backend_errors() -> None:
    connector = FakeConnector()
    backend = TinkerBackend(api_key=KEY, connector=connector)
    run = await backend.create_run("Qwen/Qwen3-8B", lora_rank=8)
    pending = await run.submit_forward_backward([datum()], "cross_entropy")
    connector.service.runs[0].pending[0].set_exception(http_error(tinker.BadRequestError, 400))
    with pytest.raises(BackendError, match="forward_backward failed: BadRequestError"):
        await pending


def test_the_fakes_have_the_sdks_signatures() -> None:
    """Every fake method takes the real one's parameters, in order, so the mapping tests above
    exercise calls the real SDK accepts."""
    pairs = [
        (FakeService, tinker.ServiceClient),
        (FakeTraining, tinker.TrainingClient),
        (FakeSampling, tinker.SamplingClient),
    ]
    for fake, real in pairs:
        for name, method in inspect.getmembers(fake, inspect.isfunction):
            if name.startswith("_"):
                continue
            fake_params = list(inspect.signature(method).parameters)
            real_params = list(inspect.signature(getattr(real, name)).parameters)
            assert fake_params == real_params[: len(fake_params)], (fake, name)


def test_only_the_tinker_backend_imports_the_sdk_clients() -> None:
    """Other modules may use the SDK's value types (``tinker.types``), never its clients."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "tinker_backend.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "tinker":
                    modules = [f"tinker.{alias.name}" for alias in node.names]
                else:
                    modules = [node.module]
            else:
                continue
            for module in modules:
                if module.split(".")[0] == "tinker" and not module.startswith("tinker.types"):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {module}")
    assert offenders == []


# ---- the factory -------------------------------------------------------------------------


def test_make_backend(tmp_path: Path) -> None:
    simulated = make_backend("simulated", state_dir=tmp_path, vocab_size=64, lr_scale=10.0)
    assert isinstance(simulated, SimulatedBackend) and simulated.vocab_size == 64
    with pytest.raises(BackendConfigError, match="state_dir"):
        make_backend("simulated")
    timed = make_backend("simulated", state_dir=tmp_path, forward_backward_s=0.5, sample_s=2.0)
    assert isinstance(timed, SimulatedBackend)
    assert timed.latencies == SimulatedLatencies(forward_backward=0.5, sample=2.0)
    with pytest.raises(BackendConfigError, match="sample: a latency cannot be negative"):
        make_backend("simulated", state_dir=tmp_path, sample_s=-1.0)
    # a caller may pass its simulated settings whatever the kind
    real = make_backend(
        "tinker", api_key=KEY, connector=FakeConnector(), state_dir=tmp_path, sample_s=2.0
    )
    assert isinstance(real, TinkerBackend) and real.name == "tinker"
    with pytest.raises(BackendConfigError, match="TINKER_API_KEY is not set"):
        make_backend("tinker", api_key=None)
    with pytest.raises(BackendConfigError, match="vocab_size apply to the simulated backend"):
        make_backend("tinker", api_key=KEY, vocab_size=64)
    with pytest.raises(BackendConfigError, match="backend: 'local'"):
        make_backend("local", state_dir=tmp_path)  # type: ignore[arg-type]
