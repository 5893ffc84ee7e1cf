"""Turning ``tinker.types.Datum`` batches into the simulated model's positions, and its results
back into ``ForwardBackwardOutput``.

Validation happens here, when a request is submitted, so a malformed datum fails at the call that
sent it with a message naming the datum and the field (the real service answers 400).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from tinker import types

from .protocol import BackendError, LossFn
from .sim_model import PositionBatch, context_buckets

#: the loss_fn_inputs each loss function needs (Tinker's names)
REQUIRED_INPUTS: dict[str, tuple[str, ...]] = {
    "cross_entropy": ("target_tokens", "weights"),
    "importance_sampling": ("target_tokens", "logprobs", "advantages"),
}


def datum_tokens(datum: types.Datum, index: int) -> npt.NDArray[np.int64]:
    try:
        return np.asarray(datum.model_input.to_ints(), np.int64)
    except ValueError as exc:
        raise BackendError(f"datum {index}: model_input must hold token chunks only") from exc


def positions_of(
    data: Sequence[types.Datum],
    loss_fn: LossFn,
    *,
    vocab_size: int,
    ctx_buckets: int,
    max_length: int | None,
) -> tuple[PositionBatch, list[int]]:
    """The flattened positions of ``data`` and each datum's length."""
    if loss_fn not in REQUIRED_INPUTS:
        raise BackendError(
            f"loss_fn: {loss_fn!r} is not supported by the simulated backend"
            f" (use one of {sorted(REQUIRED_INPUTS)})"
        )
    if not data:
        raise BackendError("data: a forward-backward needs at least one datum")
    parts: list[PositionBatch] = []
    lengths: list[int] = []
    for i, datum in enumerate(data):
        tokens = datum_tokens(datum, i)
        n = tokens.shape[0]
        if n == 0:
            raise BackendError(f"datum {i}: model_input is empty")
        if max_length is not None and n > max_length:
            raise BackendError(
                f"datum {i}: {n} tokens exceed the model's context length {max_length}"
            )
        inputs = {key: _input(datum, key, i, n) for key in REQUIRED_INPUTS[loss_fn]}
        targets = inputs["target_tokens"].astype(np.int64)
        for name, arr in (("model_input", tokens), ("target_tokens", targets)):
            bad = (arr < 0) | (arr >= vocab_size)
            if bad.any():
                raise BackendError(
                    f"datum {i}: {name} holds token {int(arr[bad][0])}, outside the vocabulary"
                    f" (0..{vocab_size - 1})"
                )
        if loss_fn == "cross_entropy":
            part = PositionBatch(
                prev_tokens=tokens,
                ctx_keys=context_buckets(tokens, ctx_buckets),
                targets=targets,
                scale=inputs["weights"],
            )
        else:
            part = PositionBatch(
                prev_tokens=tokens,
                ctx_keys=context_buckets(tokens, ctx_buckets),
                targets=targets,
                scale=inputs["advantages"],
                sampler_logprobs=inputs["logprobs"],
            )
        parts.append(part)
        lengths.append(n)
    return PositionBatch.concat(parts), lengths


def _input(datum: types.Datum, key: str, index: int, length: int) -> npt.NDArray[np.float64]:
    tensor = datum.loss_fn_inputs.get(key)
    if tensor is None:
        raise BackendError(f"datum {index}: loss_fn_inputs[{key!r}] is missing")
    arr = np.asarray(tensor.to_numpy(), np.float64).reshape(-1)
    if arr.shape[0] != length:
        raise BackendError(
            f"datum {index}: loss_fn_inputs[{key!r}] has {arr.shape[0]} values for"
            f" {length} input tokens"
        )
    if not np.isfinite(arr).all():
        raise BackendError(f"datum {index}: loss_fn_inputs[{key!r}] holds a non-finite value")
    return arr


def forward_output(
    logprobs: npt.NDArray[np.float64], losses: npt.NDArray[np.float64], lengths: list[int]
) -> types.ForwardBackwardOutput:
    """Per-datum ``logprobs`` and ``elementwise_loss``, and ``loss:sum`` (Tinker's shape)."""
    outputs: list[types.LossFnOutput] = []
    start = 0
    for n in lengths:
        outputs.append(
            {
                "logprobs": types.TensorData.from_numpy(
                    logprobs[start : start + n].astype(np.float32)
                ),
                "elementwise_loss": types.TensorData.from_numpy(
                    losses[start : start + n].astype(np.float32)
                ),
            }
        )
        start += n
    return types.ForwardBackwardOutput(
        loss_fn_output_type="ArrayRecord",
        loss_fn_outputs=outputs,
        metrics={"loss:sum": float(losses.sum())},
    )
