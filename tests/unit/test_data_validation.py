"""validate_jsonl: every planted error is reported on its line, with its field and code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tutorlab.curriculum.validation import estimate_tokens, validate_jsonl


def _good(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "prompt": "Student: What is 3/4 + 1/8?\nMode: hint",
        "response": "What common denominator could you use for 4 and 8?",
        "grade": 5,
        "topic_tags": ["arithmetic.fractions"],
    }
    data.update(overrides)
    return data


def _line(**overrides: Any) -> str:
    return json.dumps(_good(**overrides))


def _without(field: str) -> str:
    data = _good()
    del data[field]
    return json.dumps(data)


# line number -> (the line, expected (field, code) problems)
PLANTED: dict[int, tuple[str, set[tuple[str | None, str]]]] = {
    1: (_line(), set()),
    2: ("", {(None, "blank_line")}),
    3: ('{"prompt": "Student: hi\\nMode: hint", ', {(None, "invalid_json")}),
    4: ("[1, 2, 3]", {(None, "not_object")}),
    5: (_without("response"), {("response", "missing_field")}),
    6: (_line(grade="fifth"), {("grade", "wrong_type")}),
    7: (_line(response="   "), {("response", "empty_response")}),
    8: (_line(prompt="Student: hi\nMode: shout"), {("prompt", "unknown_mode")}),
    9: (_line(prompt="free form", mode="yell"), {("mode", "unknown_mode")}),
    10: (_line(grade=0), {("grade", "grade_out_of_range")}),
    11: (_line(response="x" * 20_000), {(None, "too_long")}),
    12: (_line(), {(None, "duplicate")}),
    13: (
        _line(grade=14, topic_tags="fractions", extra=1),
        {("grade", "grade_out_of_range"), ("topic_tags", "wrong_type"), ("extra", "unknown_field")},
    ),
    14: (
        json.dumps({"messages": [{"role": "user", "content": "hi"}], "grade": 3, "topic_tags": []}),
        {("messages", "invalid_messages")},
    ),
    15: (
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "robot", "content": "beep"},
                ],
                "grade": 3,
                "topic_tags": [],
            }
        ),
        {("messages[1].role", "invalid_role")},
    ),
    16: (_line(mode="solve"), {("mode", "mode_mismatch")}),
    17: ("NaN", {(None, "invalid_json")}),
    18: (
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "How do I start?"},
                    {"role": "assistant", "content": "What do you know already?"},
                ],
                "grade": 4,
                "topic_tags": ["arithmetic"],
                "mode": "hint",
            }
        ),
        set(),
    ),
    19: (_line(prompt="Why is 1/2 = 2/4?", response="Both name the same amount."), set()),
}


def _lines() -> list[str]:
    return [PLANTED[n][0] for n in sorted(PLANTED)]


def test_every_planted_problem_is_reported_on_its_line() -> None:
    report = validate_jsonl(_lines())
    assert not report.ok
    assert report.n_lines == len(PLANTED)
    for number, (_, expected) in PLANTED.items():
        found = {(p.field, p.code) for p in report.problems_on(number)}
        assert found == expected, (number, report.problems_on(number))
    assert report.n_valid == sum(1 for _, expected in PLANTED.values() if not expected)


def test_problems_are_in_line_order_and_messages_say_what_is_wrong() -> None:
    report = validate_jsonl(_lines())
    assert [p.line for p in report.problems] == sorted(p.line for p in report.problems)
    duplicate = report.problems_on(12)[0]
    assert duplicate.duplicate_of == 1
    assert "line 1" in duplicate.message
    assert "grade 0 is outside 1..12" in report.problems_on(10)[0].message
    assert "'yell'" in report.problems_on(9)[0].message
    assert "over the limit of 4096" in report.problems_on(11)[0].message
    assert "grade 'fifth' is not a whole number" in report.problems_on(6)[0].message


def test_grades_written_as_strings() -> None:
    """``"grade": "6"`` (the seed's form) is valid; other strings are problems naming ``grade``
    and their line; a digit string out of 1..12 is out of range like the number."""
    lines = [
        _line(grade="6"),
        _line(grade="six", response="a"),
        _line(grade="6.5", response="b"),
        _line(grade="13", response="c"),
        _line(grade="", response="d"),
        _line(grade=" 6", response="e"),
        _line(grade=6),  # the same example as line 1
    ]
    report = validate_jsonl(lines)
    assert [(p.line, p.field, p.code) for p in report.problems] == [
        (2, "grade", "wrong_type"),
        (3, "grade", "wrong_type"),
        (4, "grade", "grade_out_of_range"),
        (5, "grade", "wrong_type"),
        (6, "grade", "wrong_type"),
        (7, None, "duplicate"),
    ]
    assert report.n_valid == 1
    assert "'6.5' is not a whole number" in report.problems_on(3)[0].message
    assert "grade 13 is outside 1..12" in report.problems_on(4)[0].message
    assert report.problems_on(7)[0].duplicate_of == 1


def test_counts_by_mode_and_format_cover_valid_lines_only() -> None:
    report = validate_jsonl(_lines())
    assert report.counts_by_mode == {"hint": 2, "unspecified": 1}
    assert report.counts_by_format == {"messages": 1, "prompt_response": 2}


def test_a_clean_file_read_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    modes = ["hint", "explain", "check", "solve"]
    lines = [
        json.dumps(_good(prompt=f"Student: problem {i}\nMode: {modes[i % 4]}")) for i in range(8)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate_jsonl(path)
    assert report.ok, report.problems
    assert (report.n_lines, report.n_valid) == (8, 8)
    assert report.counts_by_mode == {"check": 2, "explain": 2, "hint": 2, "solve": 2}
    assert validate_jsonl(str(path)).ok


def test_path_input_reports_bad_utf8_and_keeps_going(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        _line().encode() + b"\n" + b'{"prompt": "\xff"}\r\n' + b"\n" + _line(grade=99).encode()
    )
    report = validate_jsonl(path)
    assert [(p.line, p.code) for p in report.problems] == [
        (2, "invalid_encoding"),
        (3, "blank_line"),
        (4, "grade_out_of_range"),
    ]
    assert report.n_lines == 4


def test_pluggable_token_estimator_and_limit() -> None:
    words = _line(response="one two three four five six")
    assert validate_jsonl([words], max_tokens=4096).ok
    report = validate_jsonl([words], max_tokens=10, token_estimator=lambda t: len(t.split()))
    assert [p.code for p in report.problems] == ["too_long"]
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("abcde") == 2


def test_lines_with_trailing_newlines_from_a_file_object(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_line() + "\n" + _line(grade=3) + "\n", encoding="utf-8")
    with path.open(encoding="utf-8") as handle:
        report = validate_jsonl(handle)
    assert report.ok
    assert report.n_valid == 2


def test_empty_input() -> None:
    report = validate_jsonl([])
    assert report.ok
    assert (report.n_lines, report.n_valid, report.problems) == (0, 0, [])
