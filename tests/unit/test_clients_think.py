"""split_think and its streaming twin ThinkSplitter; a separate reasoning field merged in."""

from __future__ import annotations

import pytest
from tutorlab.clients import ThinkSplitter, split_think
from tutorlab.clients.think import ReasoningStream, reply_and_reasoning

CASES = [
    # (raw model output, expected reply, expected reasoning)
    ("<think>\nadd 2 and 2\n</think>\n\nThe answer is 4.", "The answer is 4.", "add 2 and 2"),
    ("<think>\n\n</think>\n\nHi there!", "Hi there!", None),  # Qwen3 non-thinking turn
    ("<think>\n\n</think>\n\n", "", None),
    ("  \n<think>plan</think>reply", "reply", "plan"),
    ("<think>\nstep 1\n\nstep 2", "", "step 1\n\nstep 2"),  # cut inside the reasoning
    ("<think>", "", None),
    ("No reasoning here.", "No reasoning here.", None),
    ("", "", None),
    ("Use the <b>bold</b> tag.", "Use the <b>bold</b> tag.", None),
    ("  leading spaces kept", "  leading spaces kept", None),
    ("a < b and b > c", "a < b and b > c", None),
]


@pytest.mark.parametrize(("raw", "reply", "reasoning"), CASES)
def test_split_think(raw: str, reply: str, reasoning: str | None) -> None:
    assert split_think(raw) == (reply, reasoning)


def test_split_think_opening_tag_in_prompt() -> None:
    # Templates that put "<think>\n" in the prompt leave only the closing tag in the reply.
    assert split_think("first, 3*4=12\n</think>\n\n12") == ("12", "first, 3*4=12")


def test_split_think_only_a_leading_block_counts() -> None:
    text = "Write <think> in your notes </think> please"
    assert split_think(text) == (text, None)


def _stream(raw: str, sizes: list[int]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    text = reasoning = ""
    pos = 0
    i = 0
    while pos < len(raw):
        size = sizes[i % len(sizes)]
        t, r = splitter.feed(raw[pos : pos + size])
        text += t
        reasoning += r
        pos += size
        i += 1
    t, r = splitter.flush()
    return text + t, reasoning + r


@pytest.mark.parametrize(("raw", "reply", "reasoning"), CASES)
@pytest.mark.parametrize("sizes", [[1], [2], [3, 1], [7], [5, 11, 2], [10_000]])
def test_stream_splitter_matches_split_think(
    raw: str, reply: str, reasoning: str | None, sizes: list[int]
) -> None:
    # Whatever the chunking, the streamed pieces add up to what split_think returns.
    assert _stream(raw, sizes) == (reply, reasoning or "")


def test_stream_splitter_emits_reasoning_before_the_block_closes() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<thi") == ("", "")
    assert splitter.feed("nk>\nLet me") == ("", "Let me")
    assert splitter.feed(" think.\n</th") == ("", " think.")
    assert splitter.feed("ink>\n\n") == ("", "")
    assert splitter.feed("Answer: 5") == ("Answer: 5", "")
    assert splitter.feed(" apples") == (" apples", "")
    assert splitter.flush() == ("", "")


def test_stream_splitter_passes_plain_text_straight_through() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello") == ("Hello", "")
    assert splitter.feed(" <think>not a block</think>") == (" <think>not a block</think>", "")


def test_stream_splitter_flushes_a_held_partial_tag_as_text() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<th") == ("", "")
    assert splitter.flush() == ("<th", "")


def test_a_separate_reasoning_field_wins_over_a_think_block() -> None:
    assert reply_and_reasoning("\n\nThe answer is 4.", " add 2 and 2 ") == (
        "The answer is 4.",
        "add 2 and 2",
    )
    assert reply_and_reasoning("<think>mine</think>Hi", "") == ("Hi", "mine")
    assert reply_and_reasoning("<think>mine</think>Hi", "  ") == ("Hi", "mine")
    assert reply_and_reasoning("Hi", None) == ("Hi", None)


def test_reasoning_stream_merges_field_deltas_and_drops_the_gap_before_the_reply() -> None:
    merged = ReasoningStream()
    assert merged.feed("", "Let me") == ("", "Let me")
    assert merged.feed(None, " think.") == ("", " think.")
    assert merged.feed("\n\n", None) == ("", "")
    assert merged.feed("  Answer", None) == ("Answer", "")
    assert merged.feed(" is 5", None) == (" is 5", "")
    assert merged.flush() == ("", "")
    inline = ReasoningStream()
    assert inline.feed("<think>a</think>b", None) == ("b", "a")
    assert inline.feed(3, 4) == ("", "")  # not text: ignored
