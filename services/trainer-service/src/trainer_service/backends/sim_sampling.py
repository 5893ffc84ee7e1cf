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
    last3 = [-1, -1, *prompt][-3:]
    history = np.tile(np.asarray(last3, np.int64), (num_samples, 1))  # x[i-2], x[i-1], x[i]
    out = [Sample([], [], "length") for _ in range(num_samples)]
    running = np.arange(num_samples)
    for _ in range(max_tokens):
        if running.shape[0] == 0:
            break
        h = history[running]
        ctx = mix_context(h[:, 1], h[:, 0]) % weights.ctx_buckets
        logits = weights.logits(h[:, 2], ctx).astype(np.float64)
        if temperature > 0:
            tokens, logps = _draw(weights, logits / temperature, col_tokens, rng)
        else:
            tokens, logps = _greedy(weights, logits, col_tokens)
        keep = np.ones(running.shape[0], bool)
        for j, seq in enumerate(running.tolist()):
            s = out[seq]
            s.tokens.append(int(tokens[j]))
            s.logprobs.append(float(logps[j]))
            if stop.hit(s.tokens):
                s.stop_reason = "stop"
                keep[j] = False
        history[running] = np.column_stack([h[:, 1], h[:, 2], tokens])
        running = running[keep]
    return out


def _log_z(weights: Weights, logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n_inactive = weights.n_inactive
    peak = logits.max(axis=1, initial=0.0 if n_inactive else -np.inf)
    total = np.exp(logits - peak[:, None]).sum(axis=1)
    if n_inactive:
        total += n_inactive * np.exp(-peak)
    log_z: npt.NDArray[np.float64] = peak + np.log(total)
    return log_z


def _draw(
    weights: Weights,
    logits: npt.NDArray[np.float64],
    col_tokens: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    log_z = _log_z(weights, logits)
    cdf = np.cumsum(np.exp(logits - log_z[:, None]), axis=1)
    u = np.asarray(rng.random((logits.shape[0],)), np.float64)
    # index n_active means "one of the inactive tokens" (the remaining mass)
    choice = (cdf < u[:, None]).sum(axis=1)
    if weights.n_inactive == 0:
        choice = np.minimum(choice, weights.n_active - 1)
    tokens = np.empty(logits.shape[0], np.int64)
    logps = np.empty(logits.shape[0], np.float64)
    for j, c in enumerate(choice.tolist()):
        if c < weights.n_active:
            tokens[j] = col_tokens[c]
            logps[j] = logits[j, c] - log_z[j]
        else:
            tokens[j] = _inactive_token(weights, rng)
            logps[j] = -log_z[j]
    return tokens, logps


def _greedy(
    weights: Weights, logits: npt.NDArray[np.float64], col_tokens: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    log_z = _log_z(weights, logits)
    best = logits.argmax(axis=1) if weights.n_active else np.zeros(logits.shape[0], np.int64)
    tokens = np.empty(logits.shape[0], np.int64)
    logps = np.empty(logits.shape[0], np.float64)
    first_inactive = int(np.flatnonzero(weights.col_of_token < 0)[0]) if weights.n_inactive else -1
    for j, c in enumerate(best.tolist()):
        if weights.n_active and (weights.n_inactive == 0 or logits[j, c] >= 0):
            tokens[j] = col_tokens[c]
            logps[j] = logits[j, c] - log_z[j]
        else:
            tokens[j] = first_inactive
            logps[j] = -log_z[j]
    return tokens, logps


def _inactive_token(weights: Weights, rng: np.random.Generator) -> int:
    """A uniformly drawn token that has no parameters (rejection: they are almost all tokens)."""
    while True:
        token = int(rng.integers(weights.vocab_size))
        if weights.col_of_token[token] < 0:
            return token


def prompt_logprobs(weights: Weights, prompt: Sequence[int]) -> list[float | None]:
    """log p(prompt[i] | prompt[:i]) for every token; None for the first."""
    tokens = np.asarray(prompt, np.int64)
    if tokens.shape[0] < 2:
        return [None] * tokens.shape[0]
    ctx = context_buckets(tokens, weights.ctx_buckets)
    scored = target_logprobs(weights, tokens[:-1], ctx[:-1], tokens[1:])
    return [None, *scored.tolist()]
