"""The simulated backend's model: a small next-token model over the full vocabulary that learns.

Why this model: the trainer's tests must see real learning (SFT lowering NLL, RL moving reward
with the sign of the advantage) from numbers that are computed, never canned, and fast enough for
unit tests. A hashed-feature log-linear model is the cheapest thing that is honestly a language
model: at position ``i`` of a token sequence ``x`` the logit of token ``v`` is

    logit(v) = bias[v] + w_prev[x[i], v] + w_ctx[hash(x[i-1], x[i-2]) mod ctx_buckets, v]

(a bigram plus a hashed trigram context). Parameters exist only for the tokens that have received
a gradient (the *active* columns) and for the feature rows that have been trained (rows allocated
on first use); every other token has logit exactly 0, and the softmax normaliser counts those
``vocab_size - n_active`` tokens exactly: ``Z = sum(exp(active logits)) + n_inactive * exp(0)``.
So an untrained model is the uniform distribution over the whole vocabulary, and activating a
token (a zero column) changes no probability.

Everything here is synchronous numpy; :mod:`.simulated` runs it in worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from tinker import types

DTYPE = np.float32
#: positions processed together in a forward pass (bounds the positions × vocab temporaries)
CHUNK_POSITIONS = 2048
#: the token id standing for "before the start of the sequence" in the context hash
_START = -1

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def context_buckets(tokens: IntArray, ctx_buckets: int) -> IntArray:
    """The context feature of every position: a hash of the two tokens before the current one."""
    n = tokens.shape[0]
    before1 = np.full(n, _START, np.int64)
    before2 = np.full(n, _START, np.int64)
    before1[1:] = tokens[:-1]
    before2[2:] = tokens[:-2]
    return mix_context(before1, before2) % ctx_buckets


def mix_context(a: IntArray, b: IntArray) -> IntArray:
    """The context hash of the two tokens before the current one (``-1``: before the start)."""
    # a, b < 2**18 (+1 for the start marker), so the products stay far inside int64
    h = ((a + 2) * 0x9E3779B1 + (b + 2) * 0x85EBCA77 + 0xC2B2AE3D) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h ^= h >> 12
    return h


@dataclass
class Weights:
    """The parameters that define the distribution (no optimizer state): what a sampler holds.

    ``prev``/``ctx`` row 0 is the shared all-zero row of every feature not trained yet.
    """

    vocab_size: int
    ctx_buckets: int
    col_of_token: IntArray  # (vocab,) column of each token, -1 when inactive
    prev_row_of_token: IntArray  # (vocab,) row of w_prev, 0 when not allocated
    ctx_row_of_bucket: IntArray  # (ctx_buckets,) row of w_ctx, 0 when not allocated
    bias: FloatArray  # (n_cols,)
    w_prev: FloatArray  # (n_prev_rows, n_cols)
    w_ctx: FloatArray  # (n_ctx_rows, n_cols)

    @property
    def n_active(self) -> int:
        return int(self.bias.shape[0])

    @property
    def n_inactive(self) -> int:
        return self.vocab_size - self.n_active

    def logits(self, prev_tokens: IntArray, ctx_keys: IntArray) -> FloatArray:
        """Logits of the active columns at positions given by their features: (n, n_active)."""
        prev_rows = self.prev_row_of_token[prev_tokens]
        ctx_rows = self.ctx_row_of_bucket[ctx_keys]
        out: FloatArray = self.w_prev[prev_rows] + self.w_ctx[ctx_rows]
        out += self.bias
        return out

    def log_normaliser(self, logits: FloatArray) -> npt.NDArray[np.float64]:
        """log Z per row, counting the inactive tokens' logit 0 exactly."""
        n_inactive = self.n_inactive
        peak = logits.max(axis=1, initial=0.0 if n_inactive else -np.inf).astype(np.float64)
        total = np.exp(logits - peak[:, None].astype(DTYPE)).sum(axis=1, dtype=np.float64)
        if n_inactive:
            total += n_inactive * np.exp(-peak)
        log_z: npt.NDArray[np.float64] = peak + np.log(total)
        return log_z

    def copy(self) -> Weights:
        return Weights(
            vocab_size=self.vocab_size,
            ctx_buckets=self.ctx_buckets,
            col_of_token=self.col_of_token.copy(),
            prev_row_of_token=self.prev_row_of_token.copy(),
            ctx_row_of_bucket=self.ctx_row_of_bucket.copy(),
            bias=self.bias.copy(),
            w_prev=self.w_prev.copy(),
            w_ctx=self.w_ctx.copy(),
        )


def empty_weights(vocab_size: int, ctx_buckets: int) -> Weights:
    """The untrained model: uniform over the vocabulary."""
    return Weights(
        vocab_size=vocab_size,
        ctx_buckets=ctx_buckets,
        col_of_token=np.full(vocab_size, -1, np.int64),
        prev_row_of_token=np.zeros(vocab_size, np.int64),
        ctx_row_of_bucket=np.zeros(ctx_buckets, np.int64),
        bias=np.zeros(0, DTYPE),
        w_prev=np.zeros((1, 0), DTYPE),
        w_ctx=np.zeros((1, 0), DTYPE),
    )


@dataclass
class PositionBatch:
    """Every scored position of a batch of sequences, flattened.

    ``scale`` is the per-position loss weight (cross-entropy ``weights``) or advantage
    (importance sampling); ``sampler_logprobs`` is set for importance sampling only.
    """

    prev_tokens: IntArray
    ctx_keys: IntArray
    targets: IntArray
    scale: npt.NDArray[np.float64]
    sampler_logprobs: npt.NDArray[np.float64] | None = None

    @property
    def live(self) -> npt.NDArray[np.bool_]:
        """Positions that carry a loss (and so a gradient)."""
        live: npt.NDArray[np.bool_] = self.scale != 0
        return live

    def losses(self, logprobs: npt.NDArray[np.float64], sl: slice) -> npt.NDArray[np.float64]:
        """Per-position loss: ``-w * logp`` or ``-advantage * exp(logp - logp_sampler)``."""
        if self.sampler_logprobs is None:
            return -self.scale[sl] * logprobs
        return -self.scale[sl] * np.exp(logprobs - self.sampler_logprobs[sl])

    def coefs(self, logprobs: npt.NDArray[np.float64], sl: slice) -> npt.NDArray[np.float64]:
        """``dLoss/dlogp`` per position (the importance ratio's derivative is the ratio)."""
        if self.sampler_logprobs is None:
            return -self.scale[sl]
        return -self.scale[sl] * np.exp(logprobs - self.sampler_logprobs[sl])

    @staticmethod
    def concat(parts: Sequence[PositionBatch]) -> PositionBatch:
        importance = [p.sampler_logprobs for p in parts if p.sampler_logprobs is not None]
        return PositionBatch(
            prev_tokens=np.concatenate([p.prev_tokens for p in parts]),
            ctx_keys=np.concatenate([p.ctx_keys for p in parts]),
            targets=np.concatenate([p.targets for p in parts]),
            scale=np.concatenate([p.scale for p in parts]),
            sampler_logprobs=np.concatenate(importance) if importance else None,
        )


def target_logprobs(
    weights: Weights, prev_tokens: IntArray, ctx_keys: IntArray, targets: IntArray
) -> npt.NDArray[np.float64]:
    """log p(target) at each position, in chunks of positions."""
    out = np.empty(targets.shape[0], np.float64)
    for start in range(0, targets.shape[0], CHUNK_POSITIONS):
        sl = slice(start, start + CHUNK_POSITIONS)
        logits = weights.logits(prev_tokens[sl], ctx_keys[sl])
        log_z = weights.log_normaliser(logits)
        out[sl] = _pick(logits, weights.col_of_token[targets[sl]]) - log_z
    return out


def _pick(logits: FloatArray, cols: IntArray) -> npt.NDArray[np.float64]:
    """logits[i, cols[i]], or 0 where the column is -1 (an inactive token)."""
    picked = np.zeros(cols.shape[0], np.float64)
    hit = cols >= 0
    picked[hit] = logits[np.flatnonzero(hit), cols[hit]]
    return picked


@dataclass
class _Block:
    """One parameter matrix with its Adam moments and accumulated gradient, grown in place."""

    value: FloatArray
    m: FloatArray
    v: FloatArray
    grad: FloatArray

    @staticmethod
    def zeros(rows: int, cols: int) -> _Block:
        shape = (max(rows, 1), max(cols, 1))
        return _Block(*(np.zeros(shape, DTYPE) for _ in range(4)))

    def ensure(self, rows: int, cols: int) -> None:
        cap_rows, cap_cols = self.value.shape
        if rows <= cap_rows and cols <= cap_cols:
            return
        new_shape = (max(rows, 2 * cap_rows), max(cols, 2 * cap_cols))
        for name in ("value", "m", "v", "grad"):
            old = getattr(self, name)
            grown = np.zeros(new_shape, DTYPE)
            grown[:cap_rows, :cap_cols] = old
            setattr(self, name, grown)


@dataclass
class AdamResult:
    grad_norm: float
    learning_rate: float


@dataclass
class TokenModel:
    """Trainable :class:`Weights` plus AdamW state and the gradient accumulated since the last
    optimizer step. Not thread-safe: one run's requests reach it one at a time."""

    vocab_size: int
    ctx_buckets: int
    n_cols: int = 0
    n_prev_rows: int = 1
    n_ctx_rows: int = 1
    adam_steps: int = 0
    col_of_token: IntArray = field(init=False)
    col_tokens: list[int] = field(init=False, default_factory=list)
    prev_row_of_token: IntArray = field(init=False)
    prev_row_tokens: list[int] = field(init=False, default_factory=list)
    ctx_row_of_bucket: IntArray = field(init=False)
    ctx_row_buckets: list[int] = field(init=False, default_factory=list)
    bias: _Block = field(init=False)
    w_prev: _Block = field(init=False)
    w_ctx: _Block = field(init=False)

    def __post_init__(self) -> None:
        self.col_of_token = np.full(self.vocab_size, -1, np.int64)
        self.prev_row_of_token = np.zeros(self.vocab_size, np.int64)
        self.ctx_row_of_bucket = np.zeros(self.ctx_buckets, np.int64)
        self.bias = _Block.zeros(1, 64)
        self.w_prev = _Block.zeros(64, 64)
        self.w_ctx = _Block.zeros(64, 64)

    # ---- views -------------------------------------------------------------------------------

    def weights(self) -> Weights:
        """The current parameters as views (no copy): valid until the next update."""
        c = self.n_cols
        return Weights(
            vocab_size=self.vocab_size,
            ctx_buckets=self.ctx_buckets,
            col_of_token=self.col_of_token,
            prev_row_of_token=self.prev_row_of_token,
            ctx_row_of_bucket=self.ctx_row_of_bucket,
            bias=self.bias.value[0, :c],
            w_prev=self.w_prev.value[: self.n_prev_rows, :c],
            w_ctx=self.w_ctx.value[: self.n_ctx_rows, :c],
        )

    def _blocks(self) -> list[tuple[_Block, int]]:
        return [(self.bias, 1), (self.w_prev, self.n_prev_rows), (self.w_ctx, self.n_ctx_rows)]

    # ---- growth ------------------------------------------------------------------------------

    def activate(self, batch: PositionBatch) -> None:
        """Give a column to every target, and a row to every feature, that will get a gradient.

        New columns and rows are zero, so this changes no probability.
        """
        live = batch.live
        for token in np.unique(batch.targets[live]).tolist():
            if self.col_of_token[token] < 0:
                self.col_of_token[token] = self.n_cols
                self.col_tokens.append(token)
                self.n_cols += 1
        for token in np.unique(batch.prev_tokens[live]).tolist():
            if self.prev_row_of_token[token] == 0:
                self.prev_row_of_token[token] = self.n_prev_rows
                self.prev_row_tokens.append(token)
                self.n_prev_rows += 1
        for key in np.unique(batch.ctx_keys[live]).tolist():
            if self.ctx_row_of_bucket[key] == 0:
                self.ctx_row_of_bucket[key] = self.n_ctx_rows
                self.ctx_row_buckets.append(key)
                self.n_ctx_rows += 1
        self.bias.ensure(1, self.n_cols)
        self.w_prev.ensure(self.n_prev_rows, self.n_cols)
        self.w_ctx.ensure(self.n_ctx_rows, self.n_cols)

    # ---- forward-backward --------------------------------------------------------------------

    def forward(
        self, batch: PositionBatch
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Logprobs and losses at every position, without gradients."""
        logprobs = target_logprobs(self.weights(), batch.prev_tokens, batch.ctx_keys, batch.targets)
        return logprobs, batch.losses(logprobs, slice(None))

    def forward_backward(
        self, batch: PositionBatch
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Score every position and add ``dLoss/dparams`` to the accumulated gradient.

        Returns the positions' logprobs and losses (one logits computation per chunk).
        """
        self.activate(batch)
        weights = self.weights()
        c = self.n_cols
        n = batch.targets.shape[0]
        logprobs = np.empty(n, np.float64)
        losses = np.empty(n, np.float64)
        live_all = batch.live
        for start in range(0, n, CHUNK_POSITIONS):
            sl = slice(start, start + CHUNK_POSITIONS)
            logits = weights.logits(batch.prev_tokens[sl], batch.ctx_keys[sl])
            log_z = weights.log_normaliser(logits)
            cols = self.col_of_token[batch.targets[sl]]
            logprobs[sl] = _pick(logits, cols) - log_z
            losses[sl] = batch.losses(logprobs[sl], sl)
            live = np.flatnonzero(live_all[sl])
            if live.shape[0] == 0:
                continue
            coefs = batch.coefs(logprobs[sl], sl)[live]
            # dLoss/dlogit_a = coef * (1[a = target] - p_a)
            probs = np.exp(logits[live] - log_z[live, None].astype(DTYPE))
            dlogits = probs * (-coefs)[:, None].astype(DTYPE)
            dlogits[np.arange(live.shape[0]), cols[live]] += coefs.astype(DTYPE)
            self.bias.grad[0, :c] += dlogits.sum(axis=0)
            prev_rows = self.prev_row_of_token[batch.prev_tokens[sl][live]]
            ctx_rows = self.ctx_row_of_bucket[batch.ctx_keys[sl][live]]
            _add_rows(self.w_prev.grad, prev_rows, dlogits, c)
            _add_rows(self.w_ctx.grad, ctx_rows, dlogits, c)
        return logprobs, losses

    # ---- optimizer ---------------------------------------------------------------------------

    def adam_step(self, params: types.AdamParams, lr_scale: float) -> AdamResult:
        """AdamW over the accumulated gradient (torch.optim.AdamW semantics, like Tinker's), then
        clear it. ``lr_scale`` multiplies the learning rate (see SimulatedBackend)."""
        c = self.n_cols
        used = [(block, rows) for block, rows in self._blocks()]
        sq = sum(float(np.square(b.grad[:r, :c], dtype=np.float64).sum()) for b, r in used)
        grad_norm = float(np.sqrt(sq))
        clip = 1.0
        if params.grad_clip_norm > 0 and grad_norm > params.grad_clip_norm:
            clip = params.grad_clip_norm / (grad_norm + 1e-6)
        lr = params.learning_rate * lr_scale
        self.adam_steps += 1
        t = self.adam_steps
        b1, b2 = params.beta1, params.beta2
        bias1 = 1.0 - b1**t
        bias2 = 1.0 - b2**t
        for block, rows in used:
            value = block.value[:rows, :c]
            g = block.grad[:rows, :c] * DTYPE(clip)
            m = block.m[:rows, :c]
            v = block.v[:rows, :c]
            if params.weight_decay:
                value *= DTYPE(1.0 - lr * params.weight_decay)
            m *= DTYPE(b1)
            m += DTYPE(1.0 - b1) * g
            v *= DTYPE(b2)
            v += DTYPE(1.0 - b2) * np.square(g)
            denom = np.sqrt(v / DTYPE(bias2)) + DTYPE(params.eps)
            step = np.divide(m / DTYPE(bias1), denom, out=np.zeros_like(m), where=denom > 0)
            value -= DTYPE(lr) * step
            block.grad[:rows, :c] = 0
        # the shared zero rows of untrained features stay zero
        self.w_prev.value[0, :c] = 0
        self.w_ctx.value[0, :c] = 0
        return AdamResult(grad_norm=grad_norm, learning_rate=lr)

    # ---- persistence -------------------------------------------------------------------------

    def state_arrays(self, *, optimizer: bool) -> dict[str, np.ndarray]:
        """The arrays a checkpoint needs (the accumulated gradient is not part of a state)."""
        c = self.n_cols
        arrays: dict[str, np.ndarray] = {
            "col_tokens": np.asarray(self.col_tokens, np.int64),
            "prev_row_tokens": np.asarray(self.prev_row_tokens, np.int64),
            "ctx_row_buckets": np.asarray(self.ctx_row_buckets, np.int64),
            "adam_steps": np.asarray(self.adam_steps, np.int64),
        }
        for name, (block, rows) in zip(("bias", "w_prev", "w_ctx"), self._blocks(), strict=True):
            arrays[name] = block.value[:rows, :c].copy()
            if optimizer:
                arrays[f"{name}.m"] = block.m[:rows, :c].copy()
                arrays[f"{name}.v"] = block.v[:rows, :c].copy()
        return arrays

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray], vocab_size: int, ctx_buckets: int) -> TokenModel:
        model = TokenModel(vocab_size=vocab_size, ctx_buckets=ctx_buckets)
        model.col_tokens = arrays["col_tokens"].tolist()
        model.prev_row_tokens = arrays["prev_row_tokens"].tolist()
        model.ctx_row_buckets = arrays["ctx_row_buckets"].tolist()
        model.n_cols = len(model.col_tokens)
        model.n_prev_rows = 1 + len(model.prev_row_tokens)
        model.n_ctx_rows = 1 + len(model.ctx_row_buckets)
        model.adam_steps = int(arrays["adam_steps"])
        model.col_of_token[model.col_tokens] = np.arange(model.n_cols)
        model.prev_row_of_token[model.prev_row_tokens] = np.arange(1, model.n_prev_rows)
        model.ctx_row_of_bucket[model.ctx_row_buckets] = np.arange(1, model.n_ctx_rows)
        model.bias.ensure(1, model.n_cols)
        model.w_prev.ensure(model.n_prev_rows, model.n_cols)
        model.w_ctx.ensure(model.n_ctx_rows, model.n_cols)
        c = model.n_cols
        for name, (block, rows) in zip(("bias", "w_prev", "w_ctx"), model._blocks(), strict=True):
            block.value[:rows, :c] = arrays[name]
            if f"{name}.m" in arrays:
                block.m[:rows, :c] = arrays[f"{name}.m"]
                block.v[:rows, :c] = arrays[f"{name}.v"]
        return model


def weights_from_arrays(
    arrays: dict[str, np.ndarray], vocab_size: int, ctx_buckets: int
) -> Weights:
    """Sampler weights from a checkpoint's arrays (optimizer moments, if any, are ignored)."""
    return TokenModel.from_arrays(arrays, vocab_size, ctx_buckets).weights().copy()


def _add_rows(grad: FloatArray, rows: IntArray, dlogits: FloatArray, n_cols: int) -> None:
    """grad[rows[i], :n_cols] += dlogits[i], summing repeated rows in a fixed order.

    (``np.add.at`` and ``np.add.reduceat`` along rows are several times slower than this: one
    vectorised add for the rows met once, a loop over the rows met more often.)
    """
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    ends = np.r_[starts[1:], rows.shape[0]]
    single = (ends - starts) == 1
    grad[sorted_rows[starts[single]], :n_cols] += dlogits[order[starts[single]]]
    for s, e in zip(starts[~single].tolist(), ends[~single].tolist(), strict=True):
        grad[sorted_rows[s], :n_cols] += dlogits[order[s:e]].sum(axis=0)
