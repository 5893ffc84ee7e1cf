"""The local process launcher refuses to start on ports another process holds (a stack left
over would answer for the new one), a stack that fails to start leaves no process behind, and a
started stack's workers are polling their queues before ``start()`` returns."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
from tutorlab.dev.devstack import SERVICES, WORKERS, Stack, free_ports
from tutorlab.worker_health import health_check_key

from tests.support import REDIS_URL, unique


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    ports = free_ports([*SERVICES, "simulator"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["data-service"]))
        squatter.listen()
        stack = Stack(root=tmp_path, ports=ports)
        with pytest.raises(RuntimeError, match=rf"data-service :{ports['data-service']}"):
            stack.start()
    assert stack.procs == {}


def test_a_stack_that_fails_to_start_stops_what_it_started(tmp_path: Path) -> None:
    ports = free_ports([*SERVICES, "simulator"])
    # tutor-api cannot start: its command is not a module
    stack = Stack(root=tmp_path, ports=ports, commands={"tutor-api": ["-m", "no_such_module"]})
    with pytest.raises(RuntimeError, match="tutor-api exited"):
        stack.start(timeout_s=60)
    assert stack.procs == {}
    for port in ports.values():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, port


def only_eval_worker(tmp_path: Path) -> Stack:
    workers = {**dict.fromkeys(WORKERS, 0), "eval-worker": 1}
    env = {"TUTORLAB_QUEUE_PREFIX": unique("devstack")}
    return Stack(root=tmp_path, redis_url=REDIS_URL, env=env, workers=workers)


def test_waiting_for_workers_ends_when_each_queue_has_a_health_key(tmp_path: Path) -> None:
    stack = only_eval_worker(tmp_path)
    key = health_check_key(f"{stack.queue_prefix}:eval-service")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        # the worker's first poll, a second after the wait began
        threading.Timer(1.0, client.set, args=(key, b"j_complete=0"), kwargs={"ex": 30}).start()
        stack.wait_workers(timeout_s=20)
        assert client.exists(key)
        client.delete(key)
        with pytest.raises(TimeoutError, match=r"workers not polling .*\['eval-worker'\]"):
            stack.wait_workers(timeout_s=0.5)
    finally:
        client.delete(key)
        client.close()


def test_a_worker_that_exits_while_starting_is_named(tmp_path: Path) -> None:
    stack = only_eval_worker(tmp_path)
    stack.procs["eval-worker"] = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    stack.procs["eval-worker"].wait(timeout=30)
    with pytest.raises(RuntimeError, match="eval-worker exited with 3"):
        stack.wait_workers(timeout_s=20)


def test_a_workers_health_key_follows_its_services_own_queue_prefix_and_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``EVAL_SERVICE_QUEUE_PREFIX`` / ``EVAL_SERVICE_REDIS_URL`` move the eval worker's queue
    (its settings read them first): the stack waits for the key where that worker writes it."""
    stack = only_eval_worker(tmp_path)
    assert stack.worker_health_key("eval-worker") == (
        REDIS_URL,
        f"{stack.queue_prefix}:eval-service:health-check",
    )
    monkeypatch.setenv("EVAL_SERVICE_QUEUE_PREFIX", "mine")
    monkeypatch.setenv("EVAL_SERVICE_REDIS_URL", "redis://localhost:6379/9")
    assert stack.worker_health_key("eval-worker") == (
        "redis://localhost:6379/9",
        "mine:eval-service:health-check",
    )
    assert stack.worker_health_key("data-worker")[1] == (
        f"{stack.queue_prefix}:data-service:health-check"
    )
