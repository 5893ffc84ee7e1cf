"""Custom task files: parsed, errors naming the field (and the YAML line), the template's
placeholders, paths confined, and a data-service dataset's rows (from the mirror here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_service.custom_tasks import (
    TaskDefinition,
    TaskFileError,
    parse_task_file,
    resolve_jsonl,
)
from eval_service.items import ItemLoader
from tutorlab.datasets.mirror import load_mirror

SERVICE_TASK = """\
name: gsm8k-plain
version: "2"
dataset: {source: data-service, name: gsm8k, split: test}
prompt:
  template: "Q: {question} (answer in \\\\boxed{})"
fields: {id: id, target: answer, context: [question]}
scorer: {name: gsm8k}
"""


def errors_of(text: str, *, yaml_text: bool = True) -> list[tuple[str, int | None]]:
    with pytest.raises(TaskFileError) as caught:
        parse_task_file(text, yaml_text=yaml_text)
    return [(d["field"], d.get("line")) for d in caught.value.detail]


def test_a_task_file_parses_and_its_checksum_ignores_layout() -> None:
    definition = parse_task_file(SERVICE_TASK, yaml_text=True)
    assert definition.scorer.name == "gsm8k" and definition.prompt.fields() == ["question"]
    as_json = definition.model_dump_json(indent=4)
    assert parse_task_file(as_json, yaml_text=False).sha256() == definition.sha256()
    assert definition.prompt.render({"question": "2+2?"}) == "Q: 2+2? (answer in \\boxed{})"


def test_errors_name_the_field_and_the_line() -> None:
    assert errors_of(SERVICE_TASK.replace('"2"', "[2]")) == [("version", 2)]
    assert errors_of(SERVICE_TASK.replace("{name: gsm8k}", "{name: gsm8k, extra: 1}")) == [
        ("scorer.extra", 7)
    ]
    assert errors_of(SERVICE_TASK.replace("{question} ", "")) == [("prompt.template", 5)]
    assert errors_of(SERVICE_TASK.replace("split: test", "split: test, path: x")) == [
        ("dataset.path", 3)
    ]
    assert errors_of("- a list\n") == [("body", None)]
    assert errors_of("name: [unclosed\n")[0] == ("body", 2)
    # JSON: the field, no line
    assert errors_of('{"name": "x"}', yaml_text=False)[0] == ("version", None)
    assert errors_of("{not json", yaml_text=False) == [("body", None)]


def test_jsonl_paths_stay_inside_the_allowed_directories(tmp_path: Path) -> None:
    data, outputs = tmp_path / "data", tmp_path / "outputs"
    (data / "t").mkdir(parents=True)
    outputs.mkdir()
    (data / "t" / "rows.jsonl").write_text('{"q": "1"}\n')
    (outputs / "rows.jsonl").write_text('{"q": "1"}\n')
    (tmp_path / "secret.jsonl").write_text('{"q": "1"}\n')
    (data / "link.jsonl").symlink_to(tmp_path / "secret.jsonl")
    roots = [data, outputs]
    assert resolve_jsonl("t/rows.jsonl", roots) == (data / "t" / "rows.jsonl").resolve()
    assert resolve_jsonl(str(outputs / "rows.jsonl"), roots) == (outputs / "rows.jsonl").resolve()
    for raw in ("../secret.jsonl", str(tmp_path / "secret.jsonl"), "link.jsonl", "t", "no.jsonl"):
        with pytest.raises(ValueError, match=r"^dataset\.path: .* is no JSONL file in "):
            resolve_jsonl(raw, roots)


async def test_a_data_service_dataset_task_reads_its_rows_and_records_checksums(
    dataset_mirror: Path,
) -> None:
    definition = TaskDefinition.model_validate(
        parse_task_file(SERVICE_TASK, yaml_text=True).model_dump()
    )
    loader = ItemLoader(mirror=dataset_mirror)  # no data-service: the mirror stands in
    items = await loader.items("gsm8k-plain", definition.spec())
    records, sha256 = load_mirror(dataset_mirror, "gsm8k", "test")
    assert len(items) == len(records)
    first = items[0]
    assert first.id == records[0].id and first.gold == records[0].answer
    assert first.prompt == f"Q: {records[0].question} (answer in \\boxed{{}})"
    assert first.context == [records[0].question]
    assert loader.checksums["task/gsm8k-plain/data"] == sha256
    assert loader.checksums["task/gsm8k-plain/definition"] == definition.sha256()


@pytest.mark.parametrize(
    ("yaml_text", "body"),
    [
        (False, '{"name": ' + "[" * 1000 + "]" * 1000 + "}"),
        (True, "name: " + "[" * 3000 + "]" * 3000),  # YAML's composer recursed into a 500
    ],
)
def test_a_task_file_nested_too_deep_is_named_as_the_body(yaml_text: bool, body: str) -> None:
    with pytest.raises(TaskFileError) as raised:
        parse_task_file(body, yaml_text=yaml_text)
    assert raised.value.detail[0]["field"] == "body"
    assert "levels deep" in raised.value.detail[0]["msg"]
