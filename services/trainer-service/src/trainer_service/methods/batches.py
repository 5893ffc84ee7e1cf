"""Datums and the batch plan every loop shares.

The plan is a pure function of (dataset size, batch size, epochs, seed): step *k* always trains
on the same examples, so a run resumed at step *k* neither repeats nor skips a batch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from tinker import types


def batch_plan(
    n_items: int, batch_size: int, epochs: int, seed: int, max_steps: int | None = None
) -> list[list[int]]:
    """Indexes of the items each step trains on: every epoch a fresh seeded shuffle cut into
    full batches (a last short batch is kept when it is the epoch's only one)."""
    steps: list[list[int]] = []
    for epoch in range(epochs):
        order = list(range(n_items))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        full = len(order) // batch_size
        cuts = [order[i * batch_size : (i + 1) * batch_size] for i in range(full)]
        if not cuts and order:
            cuts = [order]
        steps.extend(cuts)
        if max_steps is not None and len(steps) >= max_steps:
            return steps[:max_steps]
    return steps


def supervised_datum(tokens: Sequence[int], weights: Sequence[float], scale: float) -> types.Datum:
    """A cross-entropy datum: predict token *i+1* from tokens up to *i*, weighted."""
    w = np.asarray(weights[1:], dtype=np.float32) * np.float32(scale)
    return types.Datum(
        model_input=types.ModelInput.from_ints(list(tokens[:-1])),
        loss_fn_inputs={
            "target_tokens": types.TensorData.from_numpy(np.asarray(tokens[1:], dtype=np.int64)),
            "weights": types.TensorData.from_numpy(w),
        },
    )


def supervised_batch(
    rendered: Sequence[tuple[Sequence[int], Sequence[float]]],
) -> tuple[list[types.Datum], int, float]:
    """Datums whose weights sum to 1 over the batch (so the loss is the mean NLL per target
    token), the number of tokens they carry, and the weight total before normalising."""
    total = float(sum(sum(w[1:]) for _, w in rendered))
    scale = 1.0 / total if total > 0 else 0.0
    datums = [supervised_datum(t, w, scale) for t, w in rendered]
    return datums, sum(len(t) - 1 for t, _ in rendered), total


def rl_datum(
    prompt: Sequence[int],
    sampled: Sequence[int],
    sampled_logprobs: Sequence[float],
    advantages: Sequence[float] | float,
) -> types.Datum:
    """An importance-sampling datum for one sampled completion: the prompt's positions carry
    no advantage; each sampled token carries its advantage and the sampler's logprob."""
    tokens = [*prompt, *sampled]
    n_prompt = len(prompt) - 1
    if isinstance(advantages, int | float):
        adv = np.full(len(sampled), float(advantages), dtype=np.float32)
    else:
        adv = np.asarray(advantages, dtype=np.float32)
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": types.TensorData.from_numpy(np.asarray(tokens[1:], dtype=np.int64)),
            "logprobs": types.TensorData.from_numpy(
                np.concatenate(
                    [
                        np.zeros(n_prompt, dtype=np.float32),
                        np.asarray(sampled_logprobs, dtype=np.float32),
                    ]
                )
            ),
            "advantages": types.TensorData.from_numpy(
                np.concatenate([np.zeros(n_prompt, dtype=np.float32), adv])
            ),
        },
    )


def loss_sum(output: types.ForwardBackwardOutput) -> float | None:
    """The summed loss the backend reports (``ForwardBackwardOutput`` has no ``.loss``)."""
    value = output.metrics.get("loss:sum")
    return float(value) if value is not None else None
