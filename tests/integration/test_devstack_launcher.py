"""``make dev`` (``python -m tutorlab.dev.devstack``) as a user runs it: every process on the
``<PREFIX>_PORT`` it is given and the queues of ``TUTORLAB_QUEUE_PREFIX``; a second stack with the
same prefix on the same Redis refused; a TERM to the launcher leaving no child behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from tutorlab.dev.devstack import SERVICES, free_ports

from tests.support import REDIS_URL, unique

pytestmark = pytest.mark.integration


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _launch(tmp_path: Path, ports: dict[str, int], prefix: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TUTORLAB_HOME": str(tmp_path),
        "REDIS_URL": REDIS_URL,
        "TUTORLAB_QUEUE_PREFIX": prefix,
        "TUTORLAB_SIM_PORT": str(ports["simulator"]),
        **{f"{p}PORT": str(ports[name]) for name, (_, p) in SERVICES.items()},
    }
    for name in ("DATABASE_URL", "TUTORLAB_API_KEY"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "tutorlab.dev.devstack"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout_s: float) -> list[str]:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} not printed; output:\n{''.join(seen[-40:])}")


def test_ports_and_queue_prefix_are_honoured_a_second_stack_is_refused_and_term_stops_all(
    tmp_path: Path,
) -> None:
    ports = free_ports([*SERVICES, "simulator"])
    prefix = unique("devstack")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = _launch(tmp_path / "first", ports, prefix)
    try:
        lines = _wait_for_line(first, "TutorLab is up", timeout_s=180)
        # each process's output, prefixed with its name, reaches the terminal
        assert any(line.startswith("tutor-api") for line in lines)
        for name, port in ports.items():
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200, name
        # the workers listen on the prefix's queues (arq's health-check key per queue)
        client = redis.Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + 60
        expected = {
            f"{prefix}:{s}:health-check".encode()
            for s in ("eval-service", "data-service", "trainer-service")
        }
        while time.monotonic() < deadline:
            keys = set(client.scan_iter(f"{prefix}:*:health-check"))
            if expected <= keys:
                break
            time.sleep(0.5)
        client.close()
        assert expected <= keys, keys

        # a second stack, other ports, same prefix and Redis: refused before anything starts
        second = _launch(tmp_path / "second", free_ports([*SERVICES, "simulator"]), prefix)
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 1, out
        assert f"queue prefix {prefix!r}" in out and "TUTORLAB_QUEUE_PREFIX" in out, out

        children = _children(first.pid)
        assert len(children) == 4 + 3 + 1, children  # services, workers, simulator
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
        survivors = {pid for pid in children if _alive(pid)}
        assert not survivors, f"children left running after TERM: {survivors}"
        for port in ports.values():
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
