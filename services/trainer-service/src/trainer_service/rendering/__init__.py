"""Qwen3 chat rendering for training and sampling, with train/serve parity.

``Renderer.load(name_or_dir)`` → ``messages_for(example)`` → ``supervised(messages, max_length)``
or ``render_examples(examples, max_length)`` → ``datum(rendered)``; ``generation_prompt``,
``stop_tokens`` and ``decode_reply`` for sampling. See :mod:`.renderer` for the token layout,
:mod:`.chat` for how an example becomes a chat, :mod:`.qwen3` for the template mirror.
"""

from trainer_service.rendering.chat import DEFAULT_MODE, Message, RenderError
from trainer_service.rendering.renderer import Rendered, Renderer

__all__ = ["DEFAULT_MODE", "Message", "RenderError", "Rendered", "Renderer"]
