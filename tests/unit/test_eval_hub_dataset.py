"""A custom task's hub dataset: the task file's forms (``source: hub`` may be left out), the
rows' checksum, and the offline answer when the repo is not cached (the tests run offline)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from eval_service import hub_dataset
from eval_service.config import HUB_MAX_BYTES, HUB_MAX_ROWS, EvalServiceSettings
from eval_service.custom_tasks import HubDataset, TaskFileError, parse_task_file
from eval_service.hub_dataset import (
    HubTooLarge,
    HubUnreachable,
    load_hub_rows,
    rows_sha256,
)
from eval_service.items import ItemLoader
from pydantic import ValidationError

TASK = """\
name: mine
version: "1"
dataset: {dataset}
prompt: {{template: "{{problem}}"}}
scorer: gsm8k
"""


def dataset_of(text: str) -> object:
    return parse_task_file(TASK.format(dataset=text), yaml_text=True).dataset


def errors_of(text: str) -> list[tuple[str, int | None]]:
    with pytest.raises(TaskFileError) as caught:
        dataset_of(text)
    return [(d["field"], d.get("line")) for d in caught.value.detail]


def test_a_hub_dataset_is_named_with_or_without_its_source() -> None:
    short = dataset_of("{hub: acme/arith}")
    assert short == HubDataset(hub="acme/arith")
    assert short == dataset_of("{source: hub, hub: acme/arith, split: test}")
    full = dataset_of("{hub: acme/arith, config: easy, split: train, revision: v1.0}")
    assert isinstance(full, HubDataset)
    assert (full.config, full.split, full.revision) == ("easy", "train", "v1.0")
    assert dataset_of("{hub: gsm8k}") == HubDataset(hub="gsm8k")  # a repo without an org


def test_a_bad_hub_dataset_names_its_field() -> None:
    assert errors_of('{hub: "acme/a b"}') == [("dataset.hub", 3)]
    assert errors_of('{hub: "../etc"}') == [("dataset.hub", 3)]
    assert errors_of("{source: hub}") == [("dataset.hub", 3)]
    assert errors_of("{hub: acme/arith, path: x.jsonl}") == [("dataset.path", 3)]
    assert errors_of("{hub: acme/arith, split: ''}") == [("dataset.split", 3)]
    assert errors_of("{repo: acme/arith}") == [("dataset.source", 3)]
    assert errors_of("{source: ftp, hub: acme/arith}") == [("dataset.source", 3)]


def test_the_rows_checksum_is_of_the_rows_not_their_key_order() -> None:
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert rows_sha256(rows) == rows_sha256([{"b": "x", "a": 1}, {"b": "y", "a": 2}])
    assert rows_sha256(rows) != rows_sha256(rows[::-1])
    assert rows_sha256(rows) != rows_sha256([*rows, {"a": 3, "b": "z"}])


def test_offline_and_not_cached_names_dataset_hub_and_why(tmp_path: Path) -> None:
    with pytest.raises(HubUnreachable) as caught:
        load_hub_rows(HubDataset(hub="acme/arith"), tmp_path / "hf-cache", timeout_s=1.0)
    message = str(caught.value)
    assert message.startswith("dataset.hub: the Hugging Face hub could not be reached")
    assert "(HF_HUB_OFFLINE is set)" in message and "unset HF_HUB_OFFLINE" in message


def test_the_size_limits_are_settings_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = EvalServiceSettings()
    assert (settings.hub_max_rows, settings.hub_max_bytes) == (HUB_MAX_ROWS, HUB_MAX_BYTES)
    monkeypatch.setenv("EVAL_SERVICE_HUB_MAX_ROWS", "10")
    monkeypatch.setenv("EVAL_SERVICE_HUB_MAX_BYTES", "2048")
    limited = ItemLoader.for_service(EvalServiceSettings())
    assert (limited.hub_max_rows, limited.hub_max_bytes) == (10, 2048)
    monkeypatch.setenv("EVAL_SERVICE_HUB_MAX_ROWS", "0")
    with pytest.raises(ValidationError, match="hub_max_rows"):
        EvalServiceSettings()


class FakeBuilder:
    """What ``_check_files`` reads of a ``datasets`` builder: the card's split sizes."""

    def __init__(self, num_bytes: int | None) -> None:
        split = SimpleNamespace(num_examples=None, num_bytes=num_bytes)
        self.info = SimpleNamespace(splits={"test": split})


@pytest.mark.parametrize(
    ("files", "card_bytes", "refused"),
    [
        ((1000 + 64 * 1024, 1, True), None, False),  # Parquet: the limit plus one file's overhead
        ((1001 + 64 * 1024, 1, True), None, True),
        ((1001 + 2 * 64 * 1024, 2, True), None, True),
        ((4000, 3, False), None, False),  # text: up to four times the limit
        ((4001, 3, False), None, True),
        ((10**9, 1, True), 500, False),  # the card said 500 bytes (checked against it instead)
        (None, None, False),  # sizes unknown: the check after preparation holds alone
    ],
)
def test_a_split_is_refused_before_download_by_its_files_only_when_they_cannot_fit(
    monkeypatch: pytest.MonkeyPatch,
    files: tuple[int, int, bool] | None,
    card_bytes: int | None,
    refused: bool,
) -> None:
    monkeypatch.setattr(hub_dataset, "_split_files_size", lambda *_: files)
    check = lambda: hub_dataset._check_files(  # noqa: E731
        HubDataset(hub="acme/arith"), FakeBuilder(card_bytes), max_bytes=1000
    )
    if refused:
        with pytest.raises(HubTooLarge, match=r"^dataset\.split: .*over the limit of 1,000"):
            check()
    else:
        check()
