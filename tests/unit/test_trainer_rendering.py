"""The trainer's Qwen3 renderer against the real chat template: train/serve parity, loss
weights on the reply only, truncation, datums, generation prompts and decoded replies."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from data_service.builders.socratic import Problem, build_examples
from data_service.items import rule_tags
from data_service.training_sets import prompt_form
from tokenizers import Tokenizer, pre_tokenizers
from trainer_service.rendering import DEFAULT_MODE, Renderer, RenderError
from trainer_service.rendering.pieces import PieceEncoder
from trainer_service.rendering.qwen3 import check_template
from tutorlab.curriculum.training_format import Example, parse_example
from tutorlab.datasets.records import gsm8k_record
from tutorlab.tutoring import system_prompt

NEWLINE = 198  # "\n": the template's last token, after <|im_end|> (the next turn's, never sampled)


@pytest.fixture(scope="module")
def renderer(qwen3_tokenizer_dir: Path) -> Renderer:
    return Renderer.load(qwen3_tokenizer_dir)


@pytest.fixture(scope="module")
def socratic_sample(dataset_mirror: Path) -> list[Example]:
    """500 examples of the Socratic set the data-service builds from GSM8K train (a seeded
    sample of its problems, tagged by the rule tagger, written in the prompt/response form)."""
    lines = (dataset_mirror / "gsm8k" / "train.jsonl").read_text().splitlines()
    problems = []
    for index in sorted(random.Random(9).sample(range(len(lines)), 220)):
        row = json.loads(lines[index])
        record = gsm8k_record(index, "train", row["question"], row["answer"]).model_dump()
        tags = rule_tags(record)
        problems.append(
            Problem(
                record["id"],
                record["question"],
                record["solution"],
                str(record["answer"]),
                int(tags["grade"]),
                tuple(tags["topic_tags"]),
            )
        )
    built, _ = build_examples(problems, seed=3)
    examples = [parse_example(json.loads(json.dumps(prompt_form(e)))) for e in built]
    assert len(examples) >= 500
    return random.Random(1).sample(examples, 500)


def template_tokens(renderer: Renderer, messages: list[dict[str, str]], **kwargs: Any) -> list[int]:
    tokens = renderer.tokenizer.apply_chat_template(
        messages, enable_thinking=False, return_dict=False, **kwargs
    )
    assert isinstance(tokens, list)
    return [int(t) for t in tokens]  # type: ignore[arg-type]


def assert_parity(renderer: Renderer, messages: list[dict[str, str]], rendered: Any) -> None:
    """The prompt is the template's generation prompt; prompt + reply is the template's chat."""
    prompt = template_tokens(renderer, messages[:-1], add_generation_prompt=True)
    assert rendered.tokens[: rendered.prompt_length] == prompt
    assert template_tokens(renderer, messages) == [*rendered.tokens, NEWLINE]


def weighted_text(renderer: Renderer, rendered: Any) -> str:
    weighted = [t for t, w in zip(rendered.tokens, rendered.weights, strict=True) if w > 0]
    return str(renderer.tokenizer.decode(weighted))


def seed_line(prompt: str, response: str, grade: int = 6, **extra: Any) -> dict[str, Any]:
    """A training line in the seed's prompt/response form."""
    return {"prompt": prompt, "response": response, "grade": grade, "topic_tags": ["t"], **extra}


def messages_line(messages: list[dict[str, str]], grade: int = 6, **extra: Any) -> dict[str, Any]:
    """A training line in the multi-turn messages form."""
    return {"messages": messages, "grade": grade, "topic_tags": ["t"], **extra}


def chat(user: str, reply: str, system: str | None = "You are a tutor.") -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system is not None else []
    return [*head, {"role": "user", "content": user}, {"role": "assistant", "content": reply}]


# ------------------------------------------------------------------ parity


def test_socratic_examples_train_on_exactly_the_tokens_the_template_serves(
    renderer: Renderer, socratic_sample: list[Example]
) -> None:
    rendered = renderer.render_examples(socratic_sample, max_length=4096)
    assert len(rendered) == len(socratic_sample)
    for example, item in zip(socratic_sample, rendered, strict=True):
        messages = renderer.messages_for(example)
        assert_parity(renderer, messages, item)
        assert weighted_text(renderer, item) == messages[-1]["content"] + "<|im_end|>"
        assert item.weights[: item.prompt_length] == [0.0] * item.prompt_length
        assert item.trainable and not item.truncated


EDGE_CASES: dict[str, list[dict[str, str]]] = {
    "unicode": chat(
        "¿Cuánto es 3 × 4? 我不知道 🤔 naïve café — “quotes” ½ π ≈ 3.14 ٣+٤ ẞ ǅ",
        "Piensa en 3 grupos de 4 🍎🍎🍎🍎: ¿cuántas manzanas hay? 你觉得呢？",
    ),
    "decomposed accents (NFC)": chat("cafe\u0301 and n\u0303", "e\u0301 is \u00e9: what is 2 + 2?"),
    "latex": chat(
        r"Simplify $\frac{2x^2}{4x}$ and \(\sqrt{16}\).",
        r"What is $\frac{2}{4}$ in lowest terms? Try \[x^{2} \cdot x^{-1}\] next: \boxed{?}",
    ),
    "empty-ish": chat(" ", "?"),
    "one character reply": chat("2+2", "4"),
    "whitespace everywhere": chat(
        "  lots   of\t\tspace \n\n\n and lines\r\n ", "\n\n  First:\tadd.\n\n  Then?  \n"
    ),
    "numbers": chat("1,234,567.89 + 0.001 = ?", "12345678901234567890 is long; 3.5e10?"),
    "markup in the user turn": chat("what is <think> and </think>? <|fim_prefix|>", "Tags."),
    "no system message": chat("What is 7 × 8?", "Count 7 eights: what do you get?", None),
    "apostrophes and case": chat("I'VE tried, it's HARD", "You'LL get it; what's 2·3?"),
    "multi-turn": [
        {"role": "system", "content": "You are a tutor."},
        {"role": "user", "content": "Help with 12 ÷ 3?"},
        {"role": "assistant", "content": "How many 3s make 12?"},
        {"role": "user", "content": "Four?"},
        {"role": "assistant", "content": "Yes! Now, what is 12 ÷ 4?"},
        {"role": "user", "content": "3"},
        {"role": "assistant", "content": "Right. Can you check it by multiplying?"},
    ],
    "history with a think block": [
        {"role": "user", "content": "2+3?"},
        {"role": "assistant", "content": "<think>\nadd them\n</think>\n\nWhat is 2 + 3?"},
        {"role": "user", "content": "5"},
        {"role": "assistant", "content": "Correct."},
    ],
    "characters Python's Unicode tables lack": chat("is \u0378 a digit?", "No: \U000e0080 ?"),
    "long reply": chat("Explain fractions.", "A fraction has a numerator. " * 200),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_keep_parity_and_weight_only_the_last_reply(
    renderer: Renderer, name: str
) -> None:
    messages = EDGE_CASES[name]
    canonical = [*messages[:-1], {"role": "assistant", "content": messages[-1]["content"].lstrip()}]
    single = renderer.supervised(messages)
    batch = renderer.render_examples([messages_line(messages)], max_length=None)[0]
    assert_parity(
        renderer,
        renderer.messages_for(messages_line(messages)),
        batch,
    )
    if messages[0]["role"] == "system":
        assert single == batch
        assert_parity(renderer, canonical, single)
    # the tokenizer normalises to NFC (what the model sees at inference too)
    reply = unicodedata.normalize("NFC", canonical[-1]["content"])
    assert weighted_text(renderer, single) == reply + "<|im_end|>"


def test_the_prompt_ends_in_the_empty_think_block_with_weight_zero(renderer: Renderer) -> None:
    rendered = renderer.supervised(chat("What is 3 × 4?", "How many groups of 4?"))
    head = renderer.tokenizer.encode("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert rendered.tokens[rendered.prompt_length - len(head) : rendered.prompt_length] == head
    assert set(rendered.weights[: rendered.prompt_length]) == {0.0}
    assert set(rendered.weights[rendered.prompt_length :]) == {1.0}
    assert rendered.tokens[-1] == renderer.stop_tokens[0]
    assert rendered.num_weighted == len(renderer.tokenizer.encode("How many groups of 4?")) + 1


#: contexts that tell apart every character class the pre-tokenizer's regex distinguishes
CONTEXTS = ("a{c}", "{c}a", "1{c}", " {c}x", "{c} ", "\n{c}", "{c}\n", "'{c}", "{c}{c}", "x{c}{c}1")


def test_the_piece_encoder_tokenises_characters_as_the_tokenizer_does(renderer: Renderer) -> None:
    """Every assigned character below U+3000 and a sample of the rest (CJK, emoji, math
    letters, private use), each in contexts that exercise the regex: the same ids. The bench's
    ``--verify`` compares the whole Socratic set."""
    backend = renderer.tokenizer.backend_tokenizer
    encoder = PieceEncoder.for_tokenizer(backend)
    assert encoder is not None and renderer.uses_piece_encoder
    points = [
        *range(0x3000),
        *range(0x3000, 0x10000, 13),
        *range(0x1D400, 0x1D800, 3),
        *range(0x1F300, 0x1FB00, 3),
        *range(0x20000, 0x2A6E0, 499),
        *range(0xF0000, 0xF0040),
    ]
    chars = [chr(p) for p in points if unicodedata.category(chr(p)) not in ("Cn", "Cs")]
    texts = [
        "|".join(context.format(c=c) for c in chars[i : i + 128] for context in CONTEXTS)
        for i in range(0, len(chars), 128)
    ]
    texts.append("<|im_start|>user\n<think>x</think><|im_end|><|im_end|>\n<|fim_pad|>é")
    expected = [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)]
    assert [encoder.encode(text) for text in texts] == expected
    assert encoder.encode("unassigned \u0378") is None  # left to the tokenizer


def test_the_piece_encoder_is_only_used_for_a_tokenizer_built_like_qwen3s(
    renderer: Renderer,
) -> None:
    other = Tokenizer.from_str(renderer.tokenizer.backend_tokenizer.to_str())
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    assert PieceEncoder.for_tokenizer(other) is None
    assert PieceEncoder.for_tokenizer(None) is None


# ------------------------------------------------------------------ examples → messages


def test_a_seed_format_line_gets_the_policy_prompt_for_its_mode_and_grade(
    renderer: Renderer,
) -> None:
    reply = "What is 12 divided into 4 equal parts?"
    line = seed_line("Student: What is 3/4 of 12?\nMode: hint", reply)
    messages = renderer.messages_for(line)
    assert messages == [
        {"role": "system", "content": system_prompt("hint", 6)},
        {"role": "user", "content": "What is 3/4 of 12?"},
        {"role": "assistant", "content": reply},
    ]
    assert messages == renderer.messages_for(parse_example(line))
    assert_parity(renderer, messages, renderer.render_examples([line])[0])


def test_a_line_without_a_mode_is_trained_under_tutor_apis_default_mode(
    renderer: Renderer,
) -> None:
    line = seed_line("Why is 0.5 = 1/2?", "  How many halves?", grade=4)
    messages = renderer.messages_for(line)
    assert DEFAULT_MODE == "hint"
    assert messages[0]["content"] == system_prompt(DEFAULT_MODE, 4)
    assert messages[1]["content"] == "Why is 0.5 = 1/2?"
    assert messages[2]["content"] == "How many halves?"  # leading whitespace dropped


def test_a_messages_example_keeps_its_own_system_prompt_or_gets_the_policy_one(
    renderer: Renderer,
) -> None:
    own = messages_line(chat("2+2?", "Count on from 2.", "Be brief."), grade=2)
    assert renderer.messages_for(own)[0] == {"role": "system", "content": "Be brief."}
    bare = messages_line(chat("2+2?", "Count on.", None), grade=2, mode="explain")
    assert renderer.messages_for(bare)[0]["content"] == system_prompt("explain", 2)


# ------------------------------------------------------------------ truncation and datums


def test_truncation_keeps_the_prompt_and_cuts_the_replys_tail(renderer: Renderer) -> None:
    messages = chat("Explain place value.", "Each place is ten times the one to its right. " * 5)
    full = renderer.supervised(messages)
    cut = renderer.supervised(messages, max_length=full.prompt_length + 3)
    assert cut.truncated and cut.trainable
    assert cut.tokens == full.tokens[: full.prompt_length + 3]
    assert cut.weights == [0.0] * full.prompt_length + [1.0] * 3
    assert renderer.stop_tokens[0] not in cut.tokens[full.prompt_length :]
    exact = renderer.supervised(messages, max_length=len(full.tokens))
    assert exact == full and not exact.truncated


def test_a_prompt_that_fills_max_length_is_flagged_not_trained(renderer: Renderer) -> None:
    messages = chat("Explain place value.", "Ten ones make a ten.")
    prompt_length = renderer.supervised(messages).prompt_length
    rendered = renderer.supervised(messages, max_length=prompt_length)
    assert not rendered.trainable and rendered.num_weighted == 0
    assert rendered.skip_reason is not None and "max_length" in rendered.skip_reason
    assert len(rendered.tokens) == prompt_length and set(rendered.weights) == {0.0}
    with pytest.raises(RenderError, match="max_length"):
        renderer.datum(rendered)
    with pytest.raises(ValueError, match="max_length"):
        renderer.supervised(messages, max_length=1)


def test_a_datum_shifts_tokens_into_targets_with_the_reply_weights(renderer: Renderer) -> None:
    rendered = renderer.supervised(chat("What is 6 × 7?", "What is 6 × 5, and then two more 6s?"))
    datum = renderer.datum(rendered)
    assert datum.model_input.to_ints() == rendered.tokens[:-1]
    assert datum.loss_fn_inputs["target_tokens"].tolist() == rendered.tokens[1:]
    assert datum.loss_fn_inputs["weights"].tolist() == rendered.weights[1:]
    assert sum(datum.loss_fn_inputs["weights"].tolist()) == rendered.num_weighted


# ------------------------------------------------------------------ sampling


def test_the_generation_prompt_is_the_templates(renderer: Renderer) -> None:
    history = EDGE_CASES["multi-turn"][:-1]
    prompt = renderer.generation_prompt(history)
    assert prompt == template_tokens(renderer, history, add_generation_prompt=True)
    assert renderer.generation_input(history).to_ints() == prompt
    tutor = [
        {"role": "system", "content": system_prompt("solve", 9)},
        {"role": "user", "content": "x²=9?"},
    ]
    assert renderer.generation_prompt(tutor) == template_tokens(
        renderer, tutor, add_generation_prompt=True
    )
    assert str(renderer.tokenizer.decode(prompt)).endswith(
        "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )


def test_stop_tokens_are_the_end_of_turn_and_end_of_text(renderer: Renderer) -> None:
    ids = renderer.tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    assert renderer.stop_tokens == ids


def test_decode_reply_stops_at_the_stop_token_and_drops_a_think_block(renderer: Renderer) -> None:
    encode = renderer.tokenizer.encode
    im_end, end_of_text = renderer.stop_tokens
    assert (
        renderer.decode_reply([*encode("How many 3s?"), im_end, *encode("junk")]) == "How many 3s?"
    )
    assert renderer.decode_reply([*encode("Cut off mid"), end_of_text]) == "Cut off mid"
    assert renderer.decode_reply(encode("no stop token")) == "no stop token"
    thought = encode("<think>\nthe answer is 12\n</think>\n\nWhat is 3 + 3 + 3 + 3?")
    assert renderer.decode_reply([*thought, im_end]) == "What is 3 + 3 + 3 + 3?"
    rendered = renderer.supervised(EDGE_CASES["unicode"])
    assert (
        renderer.decode_reply(rendered.tokens[rendered.prompt_length :])
        == EDGE_CASES["unicode"][-1]["content"]
    )


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (chat("a", "b")[:-1], "not the assistant's"),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "assistant", "content": "c"},
            ],
            "must follow a user message",
        ),
        (chat("a", "<think>\nsecret\n</think>\n\nb"), "'<think>'"),
        (chat("a", "b<|im_end|>c"), "'<\\|im_end\\|>'"),
        (chat("a", "  "), "empty"),
        (
            [{"role": "tool", "content": "a"}, {"role": "assistant", "content": "b"}],
            "messages\\[0\\].role",
        ),
        (
            [{"role": "user", "content": 3}, {"role": "assistant", "content": "b"}],
            "messages\\[0\\].content",
        ),
    ],
)
def test_chats_that_cannot_be_trained_on_say_why(
    renderer: Renderer, messages: list[dict[str, Any]], error: str
) -> None:
    with pytest.raises(RenderError, match=error):
        renderer.supervised(messages)


def test_a_bad_example_in_a_batch_is_named_by_index_and_id(renderer: Renderer) -> None:
    good = seed_line("Student: 1+1?\nMode: hint", "Count on.", grade=1)
    bad = {**good, "id": "ex-7", "response": "<think>x</think>two"}
    with pytest.raises(RenderError, match=r"example 1 \(id ex-7\).*'<think>'"):
        renderer.render_examples([good, bad])
    with pytest.raises(RenderError, match=r"example 0 \(id 0\): grade: Input should be less"):
        renderer.render_examples([{**good, "grade": 13}])


class OtherTemplate:
    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> str:
        return "".join(f"[{m['role']}] {m['content']}\n" for m in conversation)


class NoTemplate:
    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> str:
        raise ValueError("tokenizer.chat_template is not set")


@pytest.mark.parametrize(
    ("tokenizer", "why"), [(OtherTemplate(), "the template gives"), (NoTemplate(), "is not set")]
)
def test_a_tokenizer_whose_template_is_not_qwen3s_is_refused(tokenizer: Any, why: str) -> None:
    problem = check_template(tokenizer)
    assert problem is not None and why in problem
    with pytest.raises(RenderError, match="other-model: not the Qwen3 chat template"):
        Renderer(tokenizer, "other-model")


def test_tokenizers_load_once_per_process_and_a_missing_one_says_which(
    qwen3_tokenizer_dir: Path, tmp_path: Path
) -> None:
    assert Renderer.load(qwen3_tokenizer_dir) is Renderer.load(str(qwen3_tokenizer_dir))
    with pytest.raises(RenderError, match=r"cannot load the tokenizer of .*no-tokenizer"):
        Renderer.load(tmp_path / "no-tokenizer")
