"""Chats and training examples as Qwen3 tokens, exactly as the chat template gives them at
inference: supervised sequences with loss weights, Tinker datums, generation prompts, replies.

Train/serve parity is the point. The tokens a reply is trained after are the tokens of
``apply_chat_template(prompt, add_generation_prompt=True, enable_thinking=False)``: the policy
system prompt, the turns, and ``<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n`` (the empty
think block is prompt, weight 0). The reply's tokens follow with weight 1, closed by ``<|im_end|>``
(weight 1: the model must learn to stop). Prompt + reply + ``<|im_end|>`` is the template's full
chat up to its final ``\\n`` (which belongs to the next turn, never sampled). In a multi-turn chat
only the last assistant message is weighted; earlier ones are context, as at inference.

Every path builds the template's text in Python (:mod:`trainer_service.rendering.qwen3`, checked
against the tokenizer's own template at load), each distinct chunk of it (a system prompt, the
generation header) tokenised once, and the text through :class:`PieceEncoder` (the tokenizer's
own BPE without its slow regex engine) where that gives the tokenizer's ids, else the tokenizer.
The tests and ``bench/trainer_render.py --verify`` compare the tokens with the template's.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any, cast

import numpy as np
from pydantic import ValidationError
from tinker import types
from transformers import AutoTokenizer, PreTrainedTokenizerBase
from tutorlab.clients.think import split_think
from tutorlab.curriculum.training_format import Example, example_id

from trainer_service.rendering.chat import (
    Message,
    RenderError,
    as_messages,
    messages_for,
    split_target,
)
from trainer_service.rendering.pieces import PieceEncoder
from trainer_service.rendering.qwen3 import (
    END_OF_TEXT,
    FORBIDDEN_IN_REPLY,
    GENERATION_HEADER,
    IM_END,
    IM_START,
    check_template,
    prompt_chunks,
)

_SYSTEM_CHUNK = f"{IM_START}system\n"
#: chunks kept between calls (system prompts, the generation header); cleared when it is full
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Rendered:
    """One training sequence: ``tokens`` and a loss weight per token (0 prompt, 1 reply).

    ``prompt_length`` tokens of prompt come first. ``truncated``: ``max_length`` cut the reply's
    tail (its ``<|im_end|>`` too). ``skip_reason``: why nothing here can be trained on (the
    prompt alone fills ``max_length``); such a sequence is not :attr:`trainable`.
    """

    tokens: list[int]
    weights: list[float]
    prompt_length: int
    truncated: bool = False
    skip_reason: str | None = None

    @property
    def trainable(self) -> bool:
        return self.skip_reason is None

    @property
    def num_weighted(self) -> int:
        """Tokens with a loss weight (the reply's, ``<|im_end|>`` included when it fits)."""
        return len(self.tokens) - self.prompt_length


def _check_reply(reply: str) -> None:
    if not reply:
        raise RenderError("the reply to train on is empty")
    for marker in FORBIDDEN_IN_REPLY:
        if marker in reply:
            raise RenderError(
                f"the reply contains {marker!r}: a non-thinking reply is plain text (the template "
                "would move reasoning into the think block, and control tokens would teach the "
                "model to end or start turns mid-reply)"
            )


def _assemble(prompt: list[int], reply: list[int], max_length: int | None) -> Rendered:
    if max_length is None or len(prompt) + len(reply) <= max_length:
        return Rendered(prompt + reply, [0.0] * len(prompt) + [1.0] * len(reply), len(prompt))
    keep = max_length - len(prompt)
    if keep < 1:
        return Rendered(
            prompt[:max_length],
            [0.0] * max_length,
            max_length,
            truncated=True,
            skip_reason=(
                f"the prompt alone has {len(prompt)} tokens: max_length {max_length} leaves no "
                "room for the reply"
            ),
        )
    return Rendered(
        prompt + reply[:keep], [0.0] * len(prompt) + [1.0] * keep, len(prompt), truncated=True
    )


class Renderer:
    """Qwen3 rendering through one tokenizer. Build with :meth:`load` (cached per process)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, name: str) -> None:
        """Refuses a tokenizer whose chat template renders differently from Qwen3's (another
        model family, or a template revision this module does not mirror): training on it
        would silently break train/serve parity."""
        problem = check_template(tokenizer)
        if problem is not None:
            raise RenderError(f"{name}: not the Qwen3 chat template mirrored here: {problem}")
        self.name = name
        self.tokenizer = tokenizer
        self._stop_tokens = [_token_id(tokenizer, IM_END), _token_id(tokenizer, END_OF_TEXT)]
        self._backend = getattr(tokenizer, "backend_tokenizer", None)
        self._pieces = PieceEncoder.for_tokenizer(self._backend)
        self._chunks: dict[str, list[int]] = {}

    @classmethod
    def load(cls, name_or_dir: str | os.PathLike[str]) -> Renderer:
        """The renderer of a Hugging Face model id (``Qwen/Qwen3-8B``) or a local tokenizer dir;
        one per name per process."""
        return _load(os.fspath(name_or_dir))

    @property
    def uses_piece_encoder(self) -> bool:
        """Whether batches skip the tokenizer's own regex (:mod:`.pieces`); a diagnostic."""
        return self._pieces is not None

    # ---------------------------------------------------------------- messages and sequences

    @staticmethod
    def messages_for(example: Example | Mapping[str, Any]) -> list[Message]:
        """The chat tutor-api would send for an example, reply last (see
        :func:`trainer_service.rendering.chat.messages_for`)."""
        return messages_for(example)

    def supervised(
        self, messages: Sequence[Mapping[str, Any]], max_length: int | None = None
    ) -> Rendered:
        """Tokens and weights for a chat whose last message is the reply to train on, after a
        user message; at most ``max_length`` tokens (the reply's tail is cut first)."""
        return self._render([messages], max_length, lambda _: "messages")[0]

    def render_examples(
        self, examples: Sequence[Example | Mapping[str, Any]], max_length: int | None = None
    ) -> list[Rendered]:
        """:meth:`supervised` of :meth:`messages_for` of every example, in order, tokenised in
        batches. A bad example raises :class:`RenderError` naming its index and id."""
        with _gc_paused():
            chats: list[list[Message]] = []
            for index, example in enumerate(examples):
                try:
                    chats.append(messages_for(example))
                except ValidationError as exc:
                    raise RenderError(f"{_label(examples, index)}: {_problems(exc)}") from exc
            return self._render(chats, max_length, lambda i: _label(examples, i))

    def datum(self, rendered: Rendered) -> types.Datum:
        """A ``cross_entropy`` datum: input ``tokens[:-1]``, targets ``tokens[1:]``, weights
        ``weights[1:]`` (unnormalised: the loop divides by its batch's weight total)."""
        if not rendered.trainable:
            raise RenderError(f"cannot train on this sequence: {rendered.skip_reason}")
        targets = np.asarray(rendered.tokens[1:], dtype=np.int64)
        weights = np.asarray(rendered.weights[1:], dtype=np.float32)
        return types.Datum(
            model_input=types.ModelInput.from_ints(rendered.tokens[:-1]),
            loss_fn_inputs={
                "target_tokens": types.TensorData.from_numpy(targets),
                "weights": types.TensorData.from_numpy(weights),
            },
        )

    # ---------------------------------------------------------------- sampling

    def generation_prompt(self, messages: Sequence[Mapping[str, Any]]) -> list[int]:
        """The tokens a sampler continues for the assistant's next turn (non-thinking)."""
        return self._prompt_tokens([prompt_chunks(as_messages(messages))])[0]

    def generation_input(self, messages: Sequence[Mapping[str, Any]]) -> types.ModelInput:
        """:meth:`generation_prompt` as the SDK's ``ModelInput``."""
        return types.ModelInput.from_ints(self.generation_prompt(messages))

    @property
    def stop_tokens(self) -> list[int]:
        """``<|im_end|>`` (the end of a turn) and ``<|endoftext|>``: where sampling stops."""
        return list(self._stop_tokens)

    def decode_reply(self, tokens: Sequence[int]) -> str:
        """The reply text of sampled tokens: up to the first stop token, special tokens and any
        ``<think>…</think>`` block dropped (as tutor-api's clients split it)."""
        end = next((i for i, t in enumerate(tokens) if t in self._stop_tokens), len(tokens))
        text = self.tokenizer.decode(list(tokens[:end]), skip_special_tokens=True)
        return split_think(str(text))[0]

    # ---------------------------------------------------------------- tokenising

    def _render(
        self,
        chats: Sequence[Sequence[Mapping[str, Any]]],
        max_length: int | None,
        label: Callable[[int], str],
    ) -> list[Rendered]:
        if max_length is not None and max_length < 2:
            raise ValueError(f"max_length must be at least 2, got {max_length}")
        prompts: list[list[str]] = []
        replies: list[str] = []
        for index, chat in enumerate(chats):
            try:
                prompt, reply = split_target(chat)
                _check_reply(reply)
            except RenderError as exc:
                raise RenderError(f"{label(index)}: {exc}") from exc
            prompts.append(prompt_chunks(prompt))
            replies.append(reply)
        end = [self._stop_tokens[0]]
        pairs = zip(self._prompt_tokens(prompts), self._encode(replies), strict=True)
        return [_assemble(prompt, reply + end, max_length) for prompt, reply in pairs]

    def _prompt_tokens(self, prompts: Sequence[Sequence[str]]) -> list[list[int]]:
        """Each prompt's tokens: its chunks' tokens end to end, each distinct chunk encoded once."""
        known = self._chunks
        new = list(dict.fromkeys(c for chunks in prompts for c in chunks if c not in known))
        encoded = dict(zip(new, self._encode(new), strict=True))
        if len(known) > _CACHE_LIMIT:
            known.clear()
        for chunk, ids in encoded.items():
            if chunk.startswith(_SYSTEM_CHUNK) or chunk == GENERATION_HEADER:
                known[chunk] = ids
        lookup = {**encoded, **known}
        return [list(chain.from_iterable(lookup[c] for c in chunks)) for chunks in prompts]

    def _encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, as the tokenizer encodes a chat (no special tokens added):
        through :class:`PieceEncoder` where it can, the rest in one tokenizer batch."""
        encoded: list[list[int] | None] = (
            [self._pieces.encode(text) for text in texts] if self._pieces else [None] * len(texts)
        )
        rest = [i for i, ids in enumerate(encoded) if ids is None]
        for i, ids in zip(rest, self._encode_slow([texts[i] for i in rest]), strict=True):
            encoded[i] = ids
        return cast(list[list[int]], encoded)

    def _encode_slow(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        backend = self._backend
        if backend is None:  # a tokenizer without a Rust backend: transformers' own batch call
            encoded = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
            return [list(ids) for ids in encoded]
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
        return [encoding.ids for encoding in encode(texts, add_special_tokens=False)]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch allocates its ~100k lists of ints
    (nothing cyclic among them): its passes over them took a third of a full set's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _token_id(tokenizer: PreTrainedTokenizerBase, token: str) -> int:
    ids = tokenizer.convert_tokens_to_ids([token])
    if not isinstance(ids, list) or not isinstance(ids[0], int):
        raise RenderError(f"the tokenizer has no {token!r} token")
    return ids[0]


def _problems(exc: ValidationError) -> str:
    """``field: message; …`` (a whole-example error has no field)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def _label(examples: Sequence[Any], index: int) -> str:
    return f"example {index} (id {example_id(examples[index], index)})"


@lru_cache(maxsize=8)
def _load(name_or_dir: str) -> Renderer:
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_dir)
    except (OSError, ValueError) as exc:
        raise RenderError(
            f"cannot load the tokenizer of {name_or_dir!r}: {exc} (offline, give a local "
            "tokenizer directory, or set HF_HOME to a cache that holds it)"
        ) from exc
    return Renderer(tokenizer, name_or_dir)
