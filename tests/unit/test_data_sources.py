"""Dataset sources: the hub failing fast and clearly, the mirror read through `datasets` giving
exactly the records the shared normalizers give, and errors that name the file or line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from data_service.dataset_sources import (
    HubUnavailable,
    SourceError,
    check_hub_reachable,
    gsm8k_records,
    hub_math_row,
    load_from_hub,
    load_from_mirror,
)
from tutorlab.datasets.records import gsm8k_record, math_record


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_hub_fails_fast_naming_it() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(HubUnavailable, match=r"cannot be reached at http://127\.0\.0\.1") as info:
        check_hub_reachable("openai/gsm8k", timeout_s=2, endpoint=endpoint)
    assert "source=mirror" in str(info.value)


def test_offline_hub_names_offline_mode_and_the_repo(tmp_path: Path) -> None:
    # tests run with HF_HUB_OFFLINE=1 (tests/conftest.py)
    with pytest.raises(HubUnavailable) as info:
        load_from_hub("math500", "test", tmp_path / "cache", timeout_s=1)
    message = str(info.value)
    assert "offline mode is on" in message and "HuggingFaceH4/MATH-500" in message
    assert str(tmp_path / "cache") in message


def test_mirror_records_equal_the_normalizers_output(dataset_mirror: Path, tmp_path: Path) -> None:
    loaded = load_from_mirror("gsm8k", "test", dataset_mirror, tmp_path)
    main = (dataset_mirror / "gsm8k/test.jsonl").read_text().splitlines()
    socratic = (dataset_mirror / "gsm8k/test_socratic.jsonl").read_text().splitlines()
    expected = [
        gsm8k_record(
            i, "test", json.loads(a)["question"], json.loads(a)["answer"], json.loads(b)["answer"]
        )
        for i, (a, b) in enumerate(zip(main, socratic, strict=True))
    ]
    assert loaded.records == expected
    assert loaded.detail["files"] == ["gsm8k/test.jsonl", "gsm8k/test_socratic.jsonl"]

    math500 = load_from_mirror("math500", "test", dataset_mirror, tmp_path)
    ids = (dataset_mirror / "math/math500_ids.txt").read_text().split()
    assert [r.id for r in math500.records] == ids
    assert {r.dataset for r in math500.records} == {"math500"}
    first = json.loads((dataset_mirror / "math/test.jsonl").read_text().splitlines()[0])
    assert load_from_mirror("math", "test", dataset_mirror, tmp_path).records[0] == math_record(
        first
    )


def test_mirror_errors_name_the_setting_the_file_or_the_line(
    dataset_mirror: Path, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match="TUTORLAB_DATASET_MIRROR"):
        load_from_mirror("gsm8k", "test", None, tmp_path)
    with pytest.raises(SourceError, match="not a directory"):
        load_from_mirror("gsm8k", "test", tmp_path / "nope", tmp_path)
    with pytest.raises(SourceError, match=r"math/train\.jsonl not found"):
        load_from_mirror("math", "train", tmp_path, tmp_path)
    with pytest.raises(SourceError, match="unknown dataset 'svamp'"):
        load_from_mirror("svamp", "test", dataset_mirror, tmp_path)

    bad = tmp_path / "bad"
    (bad / "math").mkdir(parents=True)
    (bad / "math/test.jsonl").write_text((dataset_mirror / "math/test.jsonl").read_text())
    (bad / "math/math500_ids.txt").write_text("test/algebra/1.json\ntest/algebra/999999.json\n")
    with pytest.raises(SourceError, match=r"1 id\(s\) not in math/test.jsonl"):
        load_from_mirror("math500", "test", bad, tmp_path / "cache")


def test_gsm8k_socratic_rows_must_line_up() -> None:
    main = [{"question": "A?", "answer": "1+1=<<1+1=2>>2\n#### 2"}]
    other = [{"question": "B?", "answer": "What? ** 1+1=2\n#### 2"}]
    with pytest.raises(SourceError, match="line 1 of the Socratic file"):
        gsm8k_records("test", main, other)
    with pytest.raises(SourceError, match="has 2 rows, the main one 1"):
        gsm8k_records("test", main, other * 2)
    no_answer = [{"question": "A?", "answer": "no final line"}]
    with pytest.raises(SourceError, match="line 1"):
        gsm8k_records("train", no_answer, None)


def test_hub_math_rows_take_the_last_boxed_answer() -> None:
    row = {
        "problem": "What is $1+1$?",
        "solution": "First $\\boxed{1}$ is wrong; $1+1=\\boxed{2}$.",
        "type": "Prealgebra",
        "level": "Level 1",
    }
    shaped = hub_math_row(row, "test", "prealgebra", 4)
    record = math_record(shaped)
    assert record.id == "test/prealgebra/hub-4" and record.split == "test"
    assert record.answer == "2" and record.metadata == {"subject": "Prealgebra", "level": 1}
