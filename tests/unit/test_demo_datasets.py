"""``make demo`` on a fresh machine: the datasets come from ``TUTORLAB_DATASET_MIRROR`` when it is
set, else from the Hugging Face hub through the data-service (here a local stand-in for the hub's
file layout, ``tests/hub_standin.py``), written once under the demo's data directory as a mirror
that the eval-service, the simulator and the data-service all read; with neither, the demo stops
with one sentence before starting anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from data_service.dataset_sources import load_from_mirror
from data_service.hub_mirror import EXIT_NO_SOURCE, no_source_sentence, wait_for
from data_service.math_ids import order_key
from tutorlab.datasets.mirror import load_mirror as eval_mirror
from tutorlab.dev import demo
from tutorlab.dev.devstack import free_port
from tutorlab_sim.mirror import load_mirror as sim_mirror

from tests.hub_standin import hub_standin, write_repo

DEMO = [sys.executable, "-m", "tutorlab.dev.demo"]
HUB_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT")
SUBJECTS = {
    "algebra": "Algebra",
    "counting_and_probability": "Counting & Probability",
    "geometry": "Geometry",
    "intermediate_algebra": "Intermediate Algebra",
    "number_theory": "Number Theory",
    "prealgebra": "Prealgebra",
    "precalculus": "Precalculus",
}


def fresh(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh clone: no mirror, no hub settings, nothing cached."""
    env = {k: v for k, v in os.environ.items() if k not in (*HUB_ENV, "TUTORLAB_DATASET_MIRROR")}
    env.update(HF_HOME=str(tmp_path / "hf-home"), TUTORLAB_HOME=str(tmp_path / "home"), **extra)
    return env


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(DEMO, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_offline_without_a_mirror_stops_with_one_sentence(tmp_path: Path) -> None:
    done = run_demo(fresh(tmp_path, HF_HUB_OFFLINE="1"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == no_source_sentence("HF_HUB_OFFLINE is set")
    assert "set TUTORLAB_DATASET_MIRROR" in done.stderr and "unset HF_HUB_OFFLINE" in done.stderr
    # nothing was started, nothing half-written
    assert not (tmp_path / "home" / "logs").exists()
    assert not (tmp_path / "home" / "var" / "datasets").exists()


def test_an_unreachable_hub_without_a_mirror_stops_with_the_same_sentence(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = run_demo(fresh(tmp_path, HF_ENDPOINT=endpoint))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == no_source_sentence(f"{endpoint} does not answer")
    assert not (tmp_path / "home" / "logs").exists()


def test_a_mirror_set_without_its_files_is_named(tmp_path: Path) -> None:
    done = run_demo(fresh(tmp_path, TUTORLAB_DATASET_MIRROR=str(tmp_path)))
    assert done.returncode == 2
    assert "TUTORLAB_DATASET_MIRROR must point at a directory with gsm8k/" in done.stdout
    assert not (tmp_path / "home" / "logs").exists()


def test_a_mirror_that_is_set_wins_over_the_hub(
    tmp_path: Path, dataset_mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTORLAB_DATASET_MIRROR", str(dataset_mirror))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    assert demo.dataset_mirror(tmp_path) == dataset_mirror
    assert not (tmp_path / "var").exists()


# --- the hub path, against the stand-in ---------------------------------------------------------


def gsm8k_rows(split: str, socratic: bool) -> list[dict[str, str]]:
    step = "How many are there in all? ** " if socratic else ""
    return [
        {
            "question": f"Ann has {n} red and 3 blue pens ({split}). How many pens does she have?",
            "answer": f"{step}She has {n} + 3 = <<{n}+3={n + 3}>>{n + 3} pens.\n#### {n + 3}",
        }
        for n in (4, 9)
    ]


def math_hub_row(row: dict[str, Any]) -> dict[str, Any]:
    """A mirror row as EleutherAI/hendrycks_math has it: no unique_id, no answer."""
    return {k: row[k] for k in ("problem", "level", "solution")} | {"type": row["subject"]}


@pytest.fixture
def hub_repos(tmp_path: Path, dataset_mirror: Path) -> tuple[Path, list[str]]:
    """GSM8K, MATH and MATH-500 laid out as on the hub. MATH's test configs hold the first two
    problems of each subject from the team's mirror (read here, never stored) after one written
    for this test; returns the root and the release ids of the real problems."""
    root = tmp_path / "hub"
    write_repo(
        root,
        "openai/gsm8k",
        {
            c: {s: gsm8k_rows(s, c == "socratic") for s in ("train", "test")}
            for c in ("main", "socratic")
        },
    )
    real: dict[str, list[dict[str, Any]]] = {}
    with (dataset_mirror / "math" / "test.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            picked = real.setdefault(row["unique_id"].split("/")[1], [])
            if len(picked) < 2:
                picked.append(row)
    own = {
        "problem": "What is $2+2$?",
        "level": "Level 1",
        "type": "Algebra",
        "solution": "$2+2=\\boxed{4}$.",
    }
    configs: dict[str | None, dict[str, list[dict[str, Any]]]] = {}
    for subject, kind in SUBJECTS.items():
        mine = own | {"type": kind, "problem": f"In {kind}, what is $2+2$?"}
        configs[subject] = {
            "train": [mine],
            "test": [mine, *(math_hub_row(r) for r in real[subject])],
        }
    write_repo(root, "EleutherAI/hendrycks_math", configs)
    ids = [r["unique_id"] for rows in real.values() for r in rows]
    math500 = [
        {"unique_id": uid, "problem": "p", "solution": "s", "answer": "1"} for uid in ids[:3]
    ]
    math500.append(
        {"unique_id": "test/algebra/999999.json", "problem": "p", "solution": "s", "answer": "1"}
    )
    write_repo(root, "HuggingFaceH4/MATH-500", {None: {"test": math500}})
    return root, ids


def test_the_hub_download_is_a_mirror_every_process_reads(
    tmp_path: Path, hub_repos: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, real_ids = hub_repos
    home = tmp_path / "home"
    for name in (*HUB_ENV, "TUTORLAB_DATASET_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with hub_standin(root) as (endpoint, requests):
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        mirror = demo.dataset_mirror(home)
    assert mirror == home / "var" / "datasets"
    assert any("/datasets/openai/gsm8k/resolve/" in r and "main/test-" in r for r in requests)

    source = json.loads((mirror / "SOURCE.json").read_text())
    assert source["source"] == "hub" and source["endpoint"] == endpoint
    assert source["files"]["math/test.jsonl"]["rows"] == 7 * 3
    # the eval-service's reader: GSM8K ids by line, MATH's real problems under their release ids
    # in the release's order, the test's own after them under hub ids
    gsm8k, _ = eval_mirror(mirror, "gsm8k", "test")
    assert [(r.id, r.answer) for r in gsm8k] == [
        ("gsm8k-test-00000", "7"),
        ("gsm8k-test-00001", "12"),
    ]
    assert gsm8k[0].metadata["socratic_subquestions"] == ["How many are there in all?"]
    math, _ = eval_mirror(mirror, "math", "test")
    ids = [r.id for r in math]
    assert sorted(real_ids) == sorted(i for i in ids if not i.split("/")[2].startswith("hub-"))
    assert ids == sorted(ids, key=order_key) and "test/algebra/hub-0" in ids
    assert {r.id: r.answer for r in math}["test/algebra/hub-0"] == "4"
    math500, _ = eval_mirror(mirror, "math500", "test")
    assert [r.id for r in math500] == sorted(real_ids[:3], key=order_key)
    # the simulator knows the same questions; the data-service imports the same records
    sim = {item.id for item in sim_mirror(mirror).items}
    assert {"gsm8k-test-00000", "gsm8k-train-00001", *real_ids} <= sim
    imported = load_from_mirror("math", "test", mirror, tmp_path / "cache")
    assert [r.id for r in imported.records] == ids

    # cached under the data directory: a second copy is made offline, from that cache
    again = subprocess.run(
        [sys.executable, "-m", "data_service.hub_mirror", "--into", str(tmp_path / "again")],
        env=fresh(tmp_path, HF_HUB_OFFLINE="1", TUTORLAB_DATA_DIR=str(home / "var")),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    for rel in ("gsm8k/test.jsonl", "gsm8k/train_socratic.jsonl", "math/test.jsonl"):
        assert (tmp_path / "again" / rel).read_bytes() == (mirror / rel).read_bytes()


def test_a_complete_mirror_is_kept_and_a_copy_replaces_a_cut_one(
    tmp_path: Path, dataset_mirror: Path
) -> None:
    into = tmp_path / "datasets"
    (into / "gsm8k").mkdir(parents=True)
    (into / "gsm8k" / "test.jsonl").write_text("cut short\n")
    command = [sys.executable, "-m", "data_service.hub_mirror", "--into", str(into)]
    env = fresh(tmp_path, HF_HUB_OFFLINE="1", TUTORLAB_DATA_DIR=str(tmp_path / "var"))
    done = subprocess.run(
        [*command, "--from", str(dataset_mirror)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for rel in ("gsm8k/test.jsonl", "math/test.jsonl", "math/math500_ids.txt"):
        assert (into / rel).read_bytes() == (dataset_mirror / rel).read_bytes()
    assert json.loads((into / "SOURCE.json").read_text())["copied_from"] == str(dataset_mirror)
    # complete: kept as it is, offline, with an empty cache
    kept = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert kept.returncode == 0, kept.stderr
    # neither a mirror nor the hub: the sentence and its exit status
    empty = tmp_path / "empty"
    none = subprocess.run(
        [
            sys.executable,
            "-m",
            "data_service.hub_mirror",
            "--into",
            str(empty),
            "--from",
            str(tmp_path / "nothing"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert none.returncode == EXIT_NO_SOURCE
    assert none.stderr.strip() == no_source_sentence("HF_HUB_OFFLINE is set")
    assert not empty.exists()


def test_waiting_for_the_mirror_ends_when_it_is_complete_or_says_who_writes_it(
    tmp_path: Path, dataset_mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Kubernetes simulator's init container: it only waits (the `datasets` Job writes)."""
    assert wait_for(tmp_path / "nothing", timeout_s=0.2, poll_s=0.05) == EXIT_NO_SOURCE
    said = capsys.readouterr().err.strip()
    assert said.startswith(f"No dataset mirror at {tmp_path / 'nothing'} after 0 s")
    assert "the `datasets` Job" in said and "gsm8k/ and math/" in said
    assert wait_for(dataset_mirror, timeout_s=0) == 0
