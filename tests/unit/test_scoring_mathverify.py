"""math-verify in worker processes: verdicts, the MATH test set, timeouts and dead workers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tutorlab.scoring import (
    MathVerifier,
    VerifyResult,
    extract_answer,
    math_equal,
    score_math_responses,
    score_math_responses_sync,
)

# --- worker targets for the tests (module level: workers import them by name) --------------------


def hooked_math_equal(gold: str, pred: str, timeout_s: float) -> VerifyResult:
    """``math_equal``, except for three predictions that misbehave on purpose."""
    if pred == "sleep":  # math-verify stuck in Python code: math_equal's own alarm must end it
        import math_verify

        original = math_verify.verify
        math_verify.verify = lambda *args, **kwargs: time.sleep(60)
        try:
            return math_equal(gold, "1", timeout_s)
        finally:
            math_verify.verify = original
    if pred == "hang":  # stuck where no signal gets through: only killing the worker helps
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    if pred == "exit":  # the worker dies mid-item
        os._exit(3)
    return math_equal(gold, pred, timeout_s)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def verifier() -> Iterator[MathVerifier]:
    with MathVerifier(workers=2, timeout_s=5.0) as pool:
        yield pool


@pytest.fixture(scope="module")
def hooked() -> Iterator[MathVerifier]:
    with MathVerifier(workers=1, timeout_s=0.5, kill_grace_s=1.0, target=hooked_math_equal) as pool:
        yield pool


# --- math_equal, the pure function ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("gold", "pred", "equal"),
    [
        ("\\frac{1}{2}", "0.5", True),
        ("\\frac{1}{2}", "\\dfrac{2}{4}", True),
        ("2", "3", False),
        ("x^2+7x+10", "(x+2)(x+5)", True),
        ("(3, -1)", "(3,-1)", True),
        ("(3, -1)", "(-1, 3)", False),
        ("\\sqrt{2}", "\\frac{2}{\\sqrt{2}}", True),
        ("5", "x = 5", True),
        ("\\frac{7}{5} + \\frac{1}{5} i.", "\\frac{7}{5} + \\frac{1}{5} i", True),
        ("10", "", False),
        ("10", None, False),
    ],
)
def test_math_equal(gold: str, pred: str | None, equal: bool) -> None:
    # the verdict, with room for a busy machine (the timeouts have tests of their own below)
    assert math_equal(gold, pred, 60.0) == VerifyResult(equal)


def test_math_equal_reports_bad_gold_as_error() -> None:
    result = math_equal("", "5", 5.0)
    assert result.equal is None
    assert result.error == "gold answer is empty"


def test_math_equal_refuses_to_run_off_the_main_thread() -> None:
    errors: list[BaseException] = []

    def call() -> None:
        try:
            math_equal("1", "1", 1.0)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert isinstance(errors[0], RuntimeError)
    assert "worker process" in str(errors[0])


# --- the pool ------------------------------------------------------------------------------------


def test_verify_sync_and_order(verifier: MathVerifier) -> None:
    pairs = [("\\frac{1}{2}", "0.5"), ("2", "3"), ("\\pi", "\\pi"), ("4", "2+2")]
    results = verifier.verify_many_sync(pairs)
    assert [r.equal for r in results] == [True, False, True, True]
    assert all(r.error is None for r in results)
    assert verifier.verify_sync("7", "7.0") == VerifyResult(True)
    assert verifier.verify_many_sync([]) == []


async def test_verify_async(verifier: MathVerifier) -> None:
    one, many = await asyncio.gather(
        verifier.verify("\\frac{3}{4}", "0.75"),
        verifier.verify_many([("1", "1"), ("1", "2")] * 40),
    )
    assert one == VerifyResult(True)
    assert [r.equal for r in many] == [True, False] * 40


async def test_score_math_responses_folds_math_verify(verifier: MathVerifier) -> None:
    items = [
        ("\\frac{\\sqrt{3}}{2}", "So $x = \\boxed{\\frac{3}{2\\sqrt{3}}}$."),
        ("\\frac{\\sqrt{3}}{2}", "So $x = \\boxed{\\frac{\\sqrt{2}}{2}}$."),
        ("x^2+7x+10", "The final answer is $(x+5)(x+2)$."),
        ("\\frac{1}{2}", "\\boxed{0.5}"),
        ("\\frac{1}{2}", "no answer here"),
    ]
    verdicts = await score_math_responses(items, kind="math", verifier=verifier)
    assert [v.correct for v in verdicts] == [True, False, True, True, False]
    assert [v.math_verify for v in verdicts] == [True, False, True, None, None]
    assert not any(v.needs_verify for v in verdicts)


def test_pairs_are_checked(verifier: MathVerifier) -> None:
    with pytest.raises(TypeError, match="pair 1"):
        verifier.verify_many_sync([("1", "1"), (2, "2")])  # type: ignore[list-item]


def test_math_test_set_gold_solutions(verifier: MathVerifier, dataset_mirror: Path) -> None:
    rows = [
        json.loads(line)
        for line in (dataset_mirror / "math" / "test.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert len(rows) == 5000
    pairs = [(row["answer"], extract_answer(row["solution"]).value or "") for row in rows]
    started = time.perf_counter()
    results = verifier.verify_many_sync(pairs)
    elapsed = time.perf_counter() - started
    rate = sum(r.equal is True for r in results) / len(rows)
    errors = [r for r in results if r.error is not None]
    print(f"math-verify, MATH gold solutions: {rate:.2%} in {elapsed:.1f}s, {len(errors)} errors")
    assert rate >= 0.995
    assert len(errors) <= 5

    verdicts = score_math_responses_sync(
        [(row["answer"], row["solution"]) for row in rows], kind="math", verifier=verifier
    )
    combined = sum(v.correct is True for v in verdicts) / len(rows)
    print(f"exact OR numeric OR math-verify: {combined:.2%}")
    assert combined >= rate


# --- timeouts and dead workers -------------------------------------------------------------------


def test_soft_timeout_is_an_error_and_keeps_the_worker(hooked: MathVerifier) -> None:
    killed = hooked.workers_killed
    results = hooked.verify_many_sync([("1", "sleep"), ("2", "2")])
    assert results[0].equal is None
    assert results[0].error is not None and results[0].error.startswith("timeout")
    assert results[1] == VerifyResult(True)
    assert hooked.workers_killed == killed


def test_hung_worker_is_killed_and_the_rest_still_work(hooked: MathVerifier) -> None:
    killed = hooked.workers_killed
    results = hooked.verify_many_sync([("1", "1"), ("1", "hang"), ("2", "2"), ("1", "2")])
    assert results[0] == VerifyResult(True)
    assert results[1].equal is None
    assert results[1].error is not None and "worker killed" in results[1].error
    assert results[2:] == [VerifyResult(True), VerifyResult(False)]
    assert hooked.workers_killed == killed + 1
    assert hooked.verify_sync("3", "3") == VerifyResult(True)


def test_dead_worker_is_replaced(hooked: MathVerifier) -> None:
    results = hooked.verify_many_sync([("1", "exit"), ("5", "5")])
    assert results[0].equal is None
    assert results[0].error is not None and "died" in results[0].error
    assert results[1] == VerifyResult(True)


async def test_hang_does_not_block_the_event_loop(hooked: MathVerifier) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await hooked.verify("1", "hang")
    finally:
        task.cancel()
    assert result.equal is None and result.error is not None
    assert ticks >= 3  # the loop kept running while the worker hung for 1.5 s
    assert await hooked.verify("2", "2") == VerifyResult(True)


async def test_async_context_manager_and_close() -> None:
    async with MathVerifier(workers=1) as pool:
        assert await pool.verify("1", "1.0") == VerifyResult(True)
    with pytest.raises(RuntimeError, match="closed"):
        await pool.verify("1", "1")
    pool.close()  # idempotent


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="workers"):
        MathVerifier(workers=0)
    with pytest.raises(ValueError, match="timeout_s"):
        MathVerifier(timeout_s=0)
