"""The real Tinker service, through TinkerBackend: skipped unless TINKER_API_KEY is set.

A smoke test of the backend alone (the trainer's 2-step SFT live test is separate): the server's
capabilities, a LoRA run on Qwen/Qwen3-8B, one pipelined forward-backward and optimizer step on
two tiny datums. Costs a few cents of Tinker time.
"""

from __future__ import annotations

import math
import os

import pytest
from tinker import types
from trainer_service.backends import TinkerBackend

pytestmark = [
    pytest.mark.skipif(not os.environ.get("TINKER_API_KEY"), reason="TINKER_API_KEY is not set"),
    pytest.mark.timeout(900),
]

BASE = "Qwen/Qwen3-8B"


def tiny_datum(tokens: list[int]) -> types.Datum:
    weights = [0.0] + [1.0] * (len(tokens) - 2)
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": types.TensorData(data=tokens[1:], dtype="int64"),
            "weights": types.TensorData(data=weights, dtype="float32"),
        },
    )


async def test_capabilities_run_and_one_step_on_tinker() -> None:
    backend = TinkerBackend(
        api_key=os.environ["TINKER_API_KEY"],
        base_url=os.environ.get("TINKER_BASE_URL") or None,
        connect_timeout_s=120,
    )
    try:
        caps = {c.name: c for c in await backend.capabilities()}
        assert BASE in caps and caps[BASE].trainable
        run = await backend.create_run(BASE, lora_rank=8, seed=0, metadata={"test": "live"})
        assert run.run_id and run.base_model == BASE
        # Qwen3 token ids of "Hello world, 2 + 2 = 4" and "The answer is 4."
        data = [
            tiny_datum([9707, 1879, 11, 220, 17, 488, 220, 17, 284, 220, 19]),
            tiny_datum([785, 4226, 374, 220, 19, 13]),
        ]
        fwd_bwd = await run.submit_forward_backward(data, "cross_entropy")
        optim = await run.submit_optim_step(types.AdamParams(learning_rate=1e-4))
        out = await fwd_bwd
        step = await optim
        assert isinstance(out, types.ForwardBackwardOutput)
        assert len(out.loss_fn_outputs) == 2
        loss = out.metrics["loss:sum"]
        assert math.isfinite(loss) and loss > 0
        logprobs = out.loss_fn_outputs[0]["logprobs"].to_numpy()
        assert logprobs.shape == (10,) and (logprobs <= 0).all()
        assert isinstance(step, types.OptimStepResponse)
        await run.aclose()
    finally:
        await backend.aclose()
