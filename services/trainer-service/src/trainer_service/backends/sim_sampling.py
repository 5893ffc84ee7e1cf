"""Sampling from, and scoring under, the simulated model's :class:`~.sim_model.Weights`.

Real sampling from the model's distribution over the whole vocabulary: the active tokens by their
logits, and the block of never-trained tokens (logit 0 each) as one outcome whose token is then
drawn uniformly among them. Synchronous numpy; the caller runs it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tinker import types

from .protocol import BackendError
from .sim_model import Weights, context_buckets, mix_context, target_logprobs

#: decodes token ids to text; needed only for string stop sequences
Decoder = Callable[[Sequence[int]], str]


@dataclass(frozen=True)
class StopRule:
    """When a sampled sequence ends: on one of ``token_ids`` (kept as the last token), or once
    its decoded text contains one of ``strings``."""

    token_ids: frozenset[int]
    strings: tuple[str, ...] = ()
    decode: Decoder | None = None

    @staticmethod
    def from_params(
        stop: str | Sequence[str] | Sequence[int] | None,
        *,
        default_token_ids: Sequence[int],
        decode: Decoder | None,
    ) -> StopRule:
        """Tinker's semantics: ``None`` keeps the implicit end-of-sequence tokens, ``[]`` stops
        only at ``max_tokens``."""
        if stop is None:
            return StopRule(frozenset(default_token_ids))
        items: list[str | int] = [stop] if isinstance(stop, str) else list(stop)
        strings = tuple(s for s in items if isinstance(s, str))
        ids = frozenset(int(s) for s in items if not isinstance(s, str))
        if strings and decode is None:
            raise BackendError(
                "SamplingParams.stop: string stop sequences need a decoder; give the simulated"
                " backend `decode=` (the tokenizer's decode) or stop on token ids"
            )
        return StopRule(ids, strings, decode)

    def hit(self, tokens: list[int]) -> bool:
        if tokens[-1] in self.token_ids:
            return True
        if self.strings and self.decode is not None:
            text = self.decode(tokens)
            return any(s in text for s in self.strings)
        return False


@dataclass
class Sample:
    tokens: list[int]
    logprobs: list[float]
    stop_reason: types.StopReason


def tokens_of_columns(weights: Weights) -> npt.NDArray[np.int64]:
    """The token id of every active column."""
    active = np.flatnonzero(weights.col_of_token >= 0)
    out = np.empty(weights.n_active, np.int64)
    out[weights.col_of_token[active]] = active
    return out


def sample(
    weights: Weights,
    prompt: Sequence[int],
    num_samples: int,
    *,
    max_tokens: int,
    temperature: float,
    stop: StopRule,
    rng: np.random.Generator,
) -> list[Sample]:
    """``num_samples`` continuations of ``prompt``, sampled together one position at a time.

    Logprobs are those of the distribution sampled from (temperature applied), the behaviour
    policy an importance-sampling loss needs; at temperature 0 (greedy) they are the model's.
    """
    col_tokens = tokens_of_columns(weights)
    stop_ids = np.fromiter(stop.token_ids, np.int64, len(stop.token_ids))
    tokens = np.zeros((num_samples, max_tokens), np.int64)
    logprobs = np.zeros((num_samples, max_tokens), np.float64)
    lengths = np.zeros(num_samples, np.int64)
    stopped = np.zeros(num_samples, bool)
    last3 = [-1, -1, *prompt][-3:]
    history = np.tile(np.asarray(last3, np.int64), (num_samples, 1))  # x[i-2], x[i-1], x[i]
    running = np.arange(num_samples)
    for t in range(max_tokens):
        if running.shape[0] == 0:
            break
        h = history[running]
        ctx = mix_context(h[:, 1], h[:, 0]) % weights.ctx_buckets
        logits = weights.logits(h[:, 2], ctx).astype(np.float64)
        if temperature > 0:
            new, new_logprobs = _draw(weights, logits / temperature, col_tokens, rng)
        else:
            new, new_logprobs = _greedy(weights, logits, col_tokens)
        tokens[running, t] = new
        logprobs[running, t] = new_logprobs
        lengths[running] = t + 1
        hit = np.isin(new, stop_ids)
        if stop.strings:
            for j in np.flatnonzero(~hit).tolist():
                hit[j] = stop.hit(tokens[running[j], : t + 1].tolist())
        stopped[running[hit]] = True
        history[running] = np.column_stack([h[:, 1], h[:, 2], new])
        running = running[~hit]
    return [
        Sample(
            tokens=tokens[i, : lengths[i]].tolist(),
            logprobs=logprobs[i, : lengths[i]].tolist(),
            stop_reason="stop" if stopped[i] else "length",
        )
        for i in range(num_samples)
    ]


def _log_z(weights: Weights, logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n_inactive = weights.n_inactive
    peak = logits.max(axis=1, initial=0.0 if n_inactive else -np.inf)
    total = np.exp(logits - peak[:, None]).sum(axis=1)
    if n_inactive:
        total += n_inactive * np.exp(-peak)
    log_z: npt.NDArray[np.float64] = peak + np.log(total)
    return log_z


Drawn = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def _draw(
    weights: Weights,
    logits: npt.NDArray[np.float64],
    col_tokens: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> Drawn:
    """Inverse-CDF sampling; the unnormalised probabilities are computed once and in float32
    (sampling needs no more precision; the returned logprobs are computed in float64)."""
    n_inactive = weights.n_inactive
    peak = logits.max(axis=1, initial=0.0 if n_inactive else -np.inf)
    unnormalised = np.exp((logits - peak[:, None]).astype(np.float32))
    total = unnormalised.sum(axis=1, dtype=np.float64)
    if n_inactive:
        total += n_inactive * np.exp(-peak)
    log_z = peak + np.log(total)
    cdf = np.cumsum(unnormalised, axis=1)
    u = np.asarray(rng.random((logits.shape[0],)), np.float64)
    # index n_active means "one of the inactive tokens" (the remaining mass)
    choice = (cdf < (u * total)[:, None]).sum(axis=1)
    if n_inactive == 0:
        choice = np.minimum(choice, weights.n_active - 1)
    return _tokens_of(weights, logits, log_z, choice, col_tokens, rng)


def _greedy(
    weights: Weights, logits: npt.NDArray[np.float64], col_tokens: npt.NDArray[np.int64]
) -> Drawn:
    log_z = _log_z(weights, logits)
    n = logits.shape[0]
    choice = np.full(n, weights.n_active, np.int64)  # the inactive block (logit 0) by default
    if weights.n_active:
        best = logits.argmax(axis=1)
        wins = (logits[np.arange(n), best] >= 0) | (weights.n_inactive == 0)
        choice[wins] = best[wins]
    return _tokens_of(weights, logits, log_z, choice, col_tokens, None)


def _tokens_of(
    weights: Weights,
    logits: npt.NDArray[np.float64],
    log_z: npt.NDArray[np.float64],
    choice: npt.NDArray[np.int64],
    col_tokens: npt.NDArray[np.int64],
    rng: np.random.Generator | None,
) -> Drawn:
    """The tokens and logprobs of the chosen columns; ``n_active`` stands for an inactive token,
    drawn uniformly among them (or the first of them, greedy)."""
    n = choice.shape[0]
    tokens = np.empty(n, np.int64)
    logprobs = -log_z.copy()
    active = np.flatnonzero(choice < weights.n_active)
    tokens[active] = col_tokens[choice[active]]
    logprobs[active] += logits[active, choice[active]]
    inactive = np.flatnonzero(choice >= weights.n_active)
    if inactive.shape[0]:
        tokens[inactive] = _inactive_tokens(weights, inactive.shape[0], rng)
    return tokens, logprobs


def _inactive_tokens(
    weights: Weights, count: int, rng: np.random.Generator | None
) -> npt.NDArray[np.int64]:
    """``count`` uniform draws among the tokens without parameters (rejection sampling: they are
    almost every token); without ``rng``, the first such token (greedy)."""
    if rng is None:
        return np.full(count, int(np.flatnonzero(weights.col_of_token < 0)[0]), np.int64)
    found: list[npt.NDArray[np.int64]] = []
    need = count
    while need > 0:
        draws = np.asarray(rng.integers(0, weights.vocab_size, 2 * need + 8), np.int64)
        ok = draws[weights.col_of_token[draws] < 0][:need]
        found.append(ok)
        need -= ok.shape[0]
    return np.concatenate(found)


def prompt_logprobs(weights: Weights, prompt: Sequence[int]) -> list[float | None]:
    """log p(prompt[i] | prompt[:i]) for every token; None for the first."""
    tokens = np.asarray(prompt, np.int64)
    if tokens.shape[0] < 2:
        return [None] * tokens.shape[0]
    ctx = context_buckets(tokens, weights.ctx_buckets)
    scored = target_logprobs(weights, tokens[:-1], ctx[:-1], tokens[1:])
    return [None, *scored.tolist()]
