"""Rendering throughput: the full Socratic training set built from GSM8K train (~21k examples)
rendered and tokenised by the trainer's Qwen3 renderer.

The set is built the way the data-service's ``build_socratic`` job builds it (GSM8K records, rule
tags, :func:`data_service.builders.socratic.build_examples`, the prompt/response JSONL form of
:func:`data_service.training_sets.prompt_form`), then parsed like a training file. Only
``Renderer.render_examples`` (examples → chats → tokens and weights) is timed against the
target; building, parsing and loading the tokenizer are reported beside it. A per-example
``apply_chat_template`` pass over a sample gives the jinja path's rate for comparison.

Target (issue #9): ≤ 15 s on the 2-core dev machine.
Run: ``uv run python bench/trainer_render.py [--repeat 3] [--max-length 2048] [--verify]``
(``--verify`` also compares every example's tokens with the template's, ~45 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from data_service.builders.socratic import Problem, build_examples
from data_service.items import rule_tags
from data_service.training_sets import prompt_form
from trainer_service.rendering import Rendered, Renderer
from tutorlab.curriculum.training_format import Example, parse_example
from tutorlab.datasets.records import gsm8k_record

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 15.0


def socratic_lines(train_file: Path, seed: int = 0) -> list[str]:
    """The Socratic training set's JSONL lines, as the data-service writes them."""
    problems = []
    for index, line in enumerate(train_file.read_text().splitlines()):
        row = json.loads(line)
        record = gsm8k_record(index, "train", row["question"], row["answer"]).model_dump()
        tags = rule_tags(record)
        problems.append(
            Problem(
                id=record["id"],
                question=record["question"],
                solution=record["solution"],
                answer=str(record["answer"]),
                grade=int(tags["grade"]),
                topic_tags=tuple(tags["topic_tags"]),
            )
        )
    examples, _ = build_examples(problems, seed=seed)
    return [json.dumps(prompt_form(example)) for example in examples]


def timed(label: str, fn: Any) -> Any:
    started = time.perf_counter()
    result = fn()
    print(f"{label:<34} {time.perf_counter() - started:7.2f} s")
    return result


def jinja_rate(renderer: Renderer, examples: list[Example], sample: int) -> float:
    """Examples per second through ``apply_chat_template`` (prompt and full chat, tokenised)."""
    chats = [renderer.messages_for(e) for e in examples[:sample]]
    template = renderer.tokenizer.apply_chat_template
    started = time.perf_counter()
    for chat in chats:
        template(chat[:-1], add_generation_prompt=True, enable_thinking=False, return_dict=False)
        template(chat, enable_thinking=False, return_dict=False)
    return len(chats) / (time.perf_counter() - started)


def verify(renderer: Renderer, examples: list[Example], rendered: list[Rendered]) -> int:
    """How many examples differ from the tokenizer's own encoding of the template's text for
    the whole chat (the rendered tokens + the template's final newline)."""
    chats = [renderer.messages_for(e) for e in examples]
    template = renderer.tokenizer.apply_chat_template
    texts = [template(chat, tokenize=False, enable_thinking=False) for chat in chats]
    encoded = renderer.tokenizer(texts, add_special_tokens=False)["input_ids"]
    newline = renderer.tokenizer.encode("\n")
    return sum(ids != [*r.tokens, *newline] for ids, r in zip(encoded, rendered, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mirror = ROOT.parent / "shared"
    parser.add_argument("--train-file", type=Path, default=mirror / "datasets/gsm8k/train.jsonl")
    parser.add_argument("--tokenizer", default=str(mirror / "tokenizers/qwen3"))
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jinja-sample", type=int, default=1000)
    parser.add_argument(
        "--verify", action="store_true", help="compare every example with the template's tokens"
    )
    args = parser.parse_args()

    lines = timed("build the Socratic set (not timed)", lambda: socratic_lines(args.train_file))
    examples = timed("parse the JSONL lines", lambda: [parse_example(json.loads(x)) for x in lines])
    loaded = timed("load the tokenizer", lambda: Renderer.load(args.tokenizer))
    print(f"piece encoder: {'on' if loaded.uses_piece_encoder else 'off (tokenizer only)'}")
    times = []
    for _ in range(args.repeat):
        renderer = Renderer(loaded.tokenizer, loaded.name)  # no chunks cached from a previous run
        started = time.perf_counter()
        rendered = renderer.render_examples(examples, args.max_length)
        times.append(time.perf_counter() - started)
    tokens = sum(len(r.tokens) for r in rendered)
    weighted = sum(r.num_weighted for r in rendered)
    best, median = min(times), statistics.median(times)
    print(
        f"examples {len(rendered)}, tokens {tokens} ({tokens / len(rendered):.0f} per example, "
        f"{weighted} weighted), truncated {sum(r.truncated for r in rendered)}, "
        f"skipped {sum(not r.trainable for r in rendered)}"
    )
    print(
        f"render_examples: median {median:.2f} s, best {best:.2f} s over {args.repeat} runs "
        f"({[round(t, 2) for t in times]})"
    )
    print(
        f"  {len(rendered) / median:,.0f} examples/s, {tokens / median:,.0f} tokens/s; "
        f"{median / TARGET_S:.2f}x the {TARGET_S:.0f} s target"
    )
    if args.verify:
        differ = timed("verify against the template", lambda: verify(loaded, examples, rendered))
        print(f"examples whose tokens differ from the template's: {differ}")
    if args.jinja_sample:
        rate = jinja_rate(loaded, examples, args.jinja_sample)
        print(
            f"per-example apply_chat_template (prompt + full chat): {rate:,.0f} examples/s, "
            f"{len(examples) / rate:.1f} s for the set"
        )


if __name__ == "__main__":
    main()
