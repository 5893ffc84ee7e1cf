"""Training record schema: seed prompt/response form and the multi-turn messages form."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from tutorlab.curriculum.training_format import (
    MessagesExample,
    TrainingExample,
    example_id,
    example_text,
    format_prompt,
    parse_example,
    parse_prompt,
)


def _seed(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "prompt": "Student: What is 3/4 + 1/8?\nMode: hint",
        "response": "What common denominator could you use for 4 and 8?",
        "grade": 5,
        "topic_tags": ["arithmetic.fractions"],
    }
    data.update(overrides)
    return data


def _errors(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        parse_example(data)
    return [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()]


def test_prompt_round_trip_and_mode_parsed_from_prompt() -> None:
    prompt = format_prompt("What is 3/4 + 1/8?", "hint")
    assert prompt == "Student: What is 3/4 + 1/8?\nMode: hint"
    assert parse_prompt(prompt) == ("What is 3/4 + 1/8?", "hint")
    assert parse_prompt("Student: two\nlines\nMode: solve") == ("two\nlines", "solve")
    assert parse_prompt("just a question") is None
    example = parse_example(_seed())
    assert isinstance(example, TrainingExample)
    assert example.mode == "hint"
    assert example.student_message == "What is 3/4 + 1/8?"
    with pytest.raises(ValueError, match="unknown mode 'shout'"):
        format_prompt("x", "shout")


def test_explicit_mode_and_free_form_prompt() -> None:
    example = parse_example(_seed(prompt="Why does 1/2 equal 2/4?", mode="explain"))
    assert example.mode == "explain"
    assert parse_example(_seed(prompt="Why does 1/2 equal 2/4?")).mode is None


def test_bad_values_are_each_reported_with_their_field() -> None:
    errors = _errors(
        _seed(
            prompt="Student: x\nMode: shout",
            response="   ",
            grade=13,
            topic_tags="arithmetic.fractions",
            colour="red",
        )
    )
    assert (("prompt",), "unknown_mode") in errors
    assert (("response",), "empty_response") in errors
    assert (("grade",), "less_than_equal") in errors
    assert (("topic_tags",), "list_type") in errors
    assert (("colour",), "extra_forbidden") in errors


def test_no_type_coercion() -> None:
    assert (("grade",), "grade_type") in _errors(_seed(grade="five"))
    assert (("grade",), "int_type") in _errors(_seed(grade=5.0))
    assert (("grade",), "int_type") in _errors(_seed(grade=True))
    assert (("mode",), "literal_error") in _errors(_seed(mode="shout"))
    assert (("topic_tags",), "empty_tag") in _errors(_seed(topic_tags=[" "]))


def test_a_grade_written_as_digits_is_that_number() -> None:
    """The seed's lines say ``"grade": "6"``; they parse as written, as the number."""
    assert parse_example(_seed(grade="6")).grade == 6
    assert parse_example(_seed(grade="06")).grade == 6
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello?"}]
    assert parse_example({"messages": messages, "grade": "12", "topic_tags": []}).grade == 12
    for bad in ("six", "6.5", " 6", "6 ", "", "-6", "+6", "٦"):
        assert _errors(_seed(grade=bad)) == [(("grade",), "grade_type")], bad
    assert _errors(_seed(grade="13")) == [(("grade",), "less_than_equal")]
    assert _errors(_seed(grade="0")) == [(("grade",), "greater_than_equal")]


def test_mode_must_agree_with_prompt() -> None:
    with pytest.raises(ValidationError, match="differs from the prompt's 'Mode: hint'"):
        parse_example(_seed(mode="solve"))


def test_messages_form() -> None:
    data = {
        "messages": [
            {"role": "system", "content": "You are a patient math tutor."},
            {"role": "user", "content": "How do I add 3/4 and 1/8?"},
            {"role": "assistant", "content": "What denominator do they share?"},
            {"role": "user", "content": "8?"},
            {"role": "assistant", "content": "Yes. Rewrite 3/4 with denominator 8."},
        ],
        "grade": 5,
        "topic_tags": ["arithmetic.fractions"],
        "mode": "hint",
        "metadata": {"source": "hand-written"},
    }
    example = parse_example(data)
    assert isinstance(example, MessagesExample)
    assert example.messages[-1].role == "assistant"
    assert example_text(example).startswith("You are a patient math tutor.\nHow do I add")


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        ([], "empty_messages"),
        ([{"role": "user", "content": "hi"}], "invalid_messages"),
        ([{"role": "assistant", "content": "hello"}], "invalid_messages"),
        (
            [
                {"role": "user", "content": "hi"},
                {"role": "system", "content": "late"},
                {"role": "assistant", "content": "hello"},
            ],
            "invalid_messages",
        ),
        (
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}],
            "empty_response",
        ),
    ],
)
def test_messages_rules(messages: list[dict[str, str]], code: str) -> None:
    errors = _errors({"messages": messages, "grade": 4, "topic_tags": []})
    assert (("messages",), code) in errors


def test_unknown_role_is_reported_at_its_position() -> None:
    errors = _errors(
        {
            "messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "yo"}],
            "grade": 4,
            "topic_tags": [],
        }
    )
    assert (("messages", 1, "role"), "literal_error") in errors


def test_example_text_and_id_helpers() -> None:
    assert example_text("plain") == "plain"
    assert example_text({"prompt": "p", "response": "r"}) == "p\nr"
    assert example_text({"messages": [{"content": "a"}, {"content": "b"}]}) == "a\nb"
    assert example_id({"id": "ex-1"}, 3) == "ex-1"
    assert example_id(parse_example(_seed(id="ex-2")), 3) == "ex-2"
    assert example_id("text", 3) == "3"
    with pytest.raises(TypeError):
        example_text(42)  # type: ignore[arg-type]
