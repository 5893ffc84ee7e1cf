"""MATH answer equivalence with math-verify, run in worker processes that can be killed.

math-verify bounds its own work with ``SIGALRM``, which only works in a process's main thread and
blocks whatever runs it. So it never runs in an event loop or a thread here: ``MathVerifier`` owns
worker processes (``spawn``), sends them chunks of ``(gold, pred)`` pairs and reads one verdict per
item. Each item gets a soft deadline inside the worker (``timeout_s``, a ``SIGALRM`` of ours) and a
hard one in the parent (``timeout_s + kill_grace_s``): a worker that misses the hard deadline is
killed and replaced, and the item is reported as an error, never as a wrong answer. Parent-side
threads only wait on pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.connection import Connection
from types import FrameType, TracebackType
from typing import Any, Self

__all__ = ["MathVerifier", "VerifyResult", "VerifyTarget", "math_equal"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """math-verify's verdict: ``equal`` is None exactly when ``error`` says why there is none."""

    equal: bool | None
    error: str | None = None


#: what a worker calls for each pair: ``(gold, pred, timeout_s) -> VerifyResult``
VerifyTarget = Callable[[str, str, float], VerifyResult]


class _ItemTimeout(BaseException):
    """Raised by our alarm; a BaseException so math-verify's ``except Exception`` lets it pass."""


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise _ItemTimeout


@lru_cache(maxsize=4096)
def _parse_answer(answer: str) -> tuple[Any, ...]:
    """math-verify's parse of a bare answer, wrapped so that it parses as one expression.

    Cached: RLVR groups and benchmark reruns repeat golds and answers (an interrupted parse is
    not cached)."""
    from math_verify import parse

    answer = answer.strip()
    if answer.endswith(".") and not answer.endswith("\\."):
        answer = answer[:-1].rstrip()  # sentence punctuation, not part of the answer
    if "\\boxed" in answer or answer.startswith(("$", "\\(", "\\[")):
        candidates = [answer]
    else:
        candidates = [f"\\boxed{{{answer}}}", f"${answer}$", answer]
    for text in candidates:
        parsed = parse(text, parsing_timeout=None)
        if parsed:
            return tuple(parsed)
    return ()


def math_equal(gold: str, pred: str | None, timeout_s: float = 5.0) -> VerifyResult:
    """Whether ``pred`` is mathematically equal to ``gold`` (math-verify ``parse`` + ``verify``).

    Both are bare answers (``\\frac{1}{2}``, ``(3, -1)``) or LaTeX text holding one. Gold that does
    not parse, an exception or running past ``timeout_s`` give an error; a prediction that does not
    parse is not equal. Uses ``SIGALRM``: call it only in a process's main thread (a worker).
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("math_equal uses SIGALRM: run it in a worker process (MathVerifier)")
    if not gold or not gold.strip():
        return VerifyResult(None, "gold answer is empty")
    if pred is None or not pred.strip():
        return VerifyResult(False)
    from math_verify import verify

    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        gold_parsed = _parse_answer(gold)
        if not gold_parsed:
            return VerifyResult(None, "gold answer did not parse")
        pred_parsed = _parse_answer(pred)
        if not pred_parsed:
            return VerifyResult(False)
        equal = verify(list(gold_parsed), list(pred_parsed), timeout_seconds=None)
        return VerifyResult(bool(equal))
    except _ItemTimeout:
        return VerifyResult(None, f"timeout: math-verify ran over {timeout_s:g}s")
    except Exception as exc:
        return VerifyResult(None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- worker process -------------------------------------------------------------------------------

_WORKER_NICENESS = 5


def _worker_main(conn: Connection, target: VerifyTarget) -> None:
    """Worker loop: receive ``(pairs, timeout_s)``, send one ``(equal, error)`` per pair."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    # below the parent's priority: their start-up (importing sympy takes seconds of CPU) and
    # long checks must not starve the event loop that drives every request and store
    os.nice(_WORKER_NICENESS)
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # we run it with our own timeouts
    math_equal("x + 1", "1 + x", 60.0)  # imports and parser warm-up, paid before "ready"
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        pairs, timeout_s = message
        for gold, pred in pairs:
            try:
                result = target(gold, pred, timeout_s)
            except BaseException as exc:
                result = VerifyResult(None, f"{type(exc).__name__}: {exc}"[:300])
            conn.send((result.equal, result.error))


class _Slot:
    """One worker process and its pipe; used by one dispatch thread at a time."""

    def __init__(self, verifier: MathVerifier) -> None:
        self._verifier = verifier
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._ready = False

    def spawn(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self.discard()
        ctx = multiprocessing.get_context(self._verifier.start_method)
        parent_conn, child_conn = ctx.Pipe()
        process = ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main,
            args=(child_conn, self._verifier.target),
            name="math-verify-worker",
            daemon=True,
        )
        process.start()
        child_conn.close()
        self._process, self._conn, self._ready = process, parent_conn, False

    def _ensure_ready(self) -> bool:
        self.spawn()
        assert self._conn is not None
        if self._ready:
            return True
        try:
            if self._conn.poll(self._verifier.start_timeout_s) and self._conn.recv() == "ready":
                self._ready = True
                return True
        except (EOFError, OSError):
            pass
        _log.error("math-verify worker did not start")
        self.discard()
        return False

    def run(self, pairs: Sequence[tuple[str, str]]) -> list[VerifyResult]:
        verifier = self._verifier
        results: list[VerifyResult] = []
        send_failures = 0
        while len(results) < len(pairs):
            remaining = len(pairs) - len(results)
            if not self._ensure_ready():
                return results + [VerifyResult(None, "math-verify worker failed to start")] * (
                    remaining
                )
            assert self._conn is not None
            batch = list(pairs[len(results) :])
            try:
                self._conn.send((batch, verifier.timeout_s))
            except OSError:
                self.discard()
                send_failures += 1
                if send_failures > 2:
                    return results + [VerifyResult(None, "math-verify worker unreachable")] * (
                        remaining
                    )
                continue
            for _ in batch:
                if not self._conn.poll(verifier.kill_after_s):
                    verifier._count_kill()
                    message = f"timeout: no verdict in {verifier.kill_after_s:g}s, worker killed"
                    _log.warning("math-verify item hung: %s", message)
                    self.discard()
                    results.append(VerifyResult(None, message))
                    break
                try:
                    equal, error = self._conn.recv()
                except (EOFError, OSError):
                    self.discard()
                    results.append(VerifyResult(None, "math-verify worker died on this item"))
                    break
                results.append(VerifyResult(equal, error))
        return results

    def discard(self) -> None:
        """Kill the worker (if any) and forget it."""
        process, conn = self._process, self._conn
        self._process, self._conn, self._ready = None, None, False
        if process is not None and process.is_alive():
            process.kill()
        if process is not None:
            process.join(5)
        if conn is not None:
            conn.close()

    def stop(self) -> None:
        """Ask the worker to exit, then make sure it did."""
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
        if self._process is not None:
            self._process.join(2)
        self.discard()


class MathVerifier:
    """A pool of math-verify worker processes with a per-item timeout.

    Use it as a (async) context manager, or call ``close()``. ``verify``/``verify_many`` are
    coroutines that never block the event loop; ``verify_sync``/``verify_many_sync`` are for
    scripts. ``verify_many`` sends pairs in chunks, one pipe round trip per chunk; verdicts come
    back in order. Workers start with ``spawn``: a script that builds one needs the usual
    ``if __name__ == "__main__":`` guard. ``target`` is the module-level function a worker calls per
    pair (default ``math_equal``; tests swap it). ``workers_killed`` counts hard-timeout kills.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        timeout_s: float = 5.0,
        kill_grace_s: float = 2.0,
        chunk_size: int = 32,
        start_timeout_s: float = 120.0,
        target: VerifyTarget = math_equal,
        start_method: str = "spawn",
    ) -> None:
        if workers is None:
            workers = max(1, min(4, os.cpu_count() or 1))
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if timeout_s <= 0 or kill_grace_s <= 0:
            raise ValueError("timeout_s and kill_grace_s must be > 0")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.workers = workers
        self.timeout_s = timeout_s
        self.kill_after_s = timeout_s + kill_grace_s
        self.chunk_size = chunk_size
        self.start_timeout_s = start_timeout_s
        self.target = target
        self.start_method = start_method
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._idle: queue.Queue[_Slot] = queue.Queue()
        self._threads: ThreadPoolExecutor | None = None
        self._closed = False
        self._killed = 0

    @property
    def workers_killed(self) -> int:
        """How many workers were killed for hanging past the hard deadline."""
        return self._killed

    def _count_kill(self) -> None:
        with self._lock:
            self._killed += 1

    def start(self) -> None:
        """Start the workers now (otherwise the first call does). Idempotent."""
        with self._lock:
            if self._closed:
                raise RuntimeError("MathVerifier is closed")
            if self._threads is not None:
                return
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="math-verify")
            for _ in range(self.workers):
                slot = _Slot(self)
                slot.spawn()
                self._slots.append(slot)
                self._idle.put(slot)

    def close(self) -> None:
        """Wait for calls in flight, then stop the workers. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads, slots = self._threads, list(self._slots)
        if threads is not None:
            threads.shutdown(wait=True)
        for slot in slots:
            slot.stop()

    def _executor(self) -> ThreadPoolExecutor:
        self.start()
        assert self._threads is not None
        return self._threads

    def _run_chunk(self, pairs: Sequence[tuple[str, str]]) -> list[VerifyResult]:
        slot = self._idle.get()
        try:
            return slot.run(pairs)
        finally:
            self._idle.put(slot)

    def _chunks(self, pairs: Iterable[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        items: list[tuple[str, str]] = []
        for index, pair in enumerate(pairs):
            gold, pred = pair
            if not isinstance(gold, str) or not isinstance(pred, str | None):
                raise TypeError(f"pair {index}: gold and pred must be strings")
            items.append((gold, pred or ""))
        if not items:
            return []
        size = min(self.chunk_size, math.ceil(len(items) / self.workers))
        return [items[i : i + size] for i in range(0, len(items), size)]

    def verify_many_sync(self, pairs: Iterable[tuple[str, str]]) -> list[VerifyResult]:
        """Verdicts for ``(gold, pred)`` pairs, in order (blocking)."""
        executor = self._executor()
        futures = [executor.submit(self._run_chunk, chunk) for chunk in self._chunks(pairs)]
        return [result for future in futures for result in future.result()]

    def verify_sync(self, gold: str, pred: str) -> VerifyResult:
        """One verdict (blocking)."""
        return self.verify_many_sync([(gold, pred)])[0]

    async def verify_many(self, pairs: Iterable[tuple[str, str]]) -> list[VerifyResult]:
        """Verdicts for ``(gold, pred)`` pairs, in order."""
        chunks = self._chunks(pairs)
        if not chunks:
            return []
        if self._threads is None:
            await asyncio.to_thread(self.start)  # spawning processes takes a moment
        executor = self._executor()
        loop = asyncio.get_running_loop()
        parts = await asyncio.gather(
            *(loop.run_in_executor(executor, self._run_chunk, chunk) for chunk in chunks)
        )
        return [result for part in parts for result in part]

    async def verify(self, gold: str, pred: str) -> VerifyResult:
        """One verdict."""
        return (await self.verify_many([(gold, pred)]))[0]

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)
