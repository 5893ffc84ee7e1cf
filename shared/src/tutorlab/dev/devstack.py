"""Run the whole stack locally as real processes: the four services, three workers, simulator.

Used by ``make dev``, ``make demo``, the end-to-end tests and the load benchmark, so all of them
exercise the same processes a deployment runs. ``python -m tutorlab.dev.devstack`` (``make dev``)
starts it in the foreground, each process's output prefixed with its name, on the ports of the
``<PREFIX>_PORT`` variables and the queues of ``TUTORLAB_QUEUE_PREFIX``. A second stack on the same
Redis with the same queue prefix is refused (it would take the first one's jobs); TERM or Ctrl-C
stops every process it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import redis

from tutorlab.settings import DEFAULT_PORTS
from tutorlab.worker_health import health_check_key

SERVICES = {
    # name: (module, env prefix); default ports: tutorlab.settings.DEFAULT_PORTS
    "tutor-api": ("tutor_api", "TUTOR_API_"),
    "eval-service": ("eval_service", "EVAL_SERVICE_"),
    "data-service": ("data_service", "DATA_SERVICE_"),
    "trainer-service": ("trainer_service", "TRAINER_SERVICE_"),
}
WORKERS = {
    # name: module run with ``python -m``
    "eval-worker": "eval_service.worker",
    "data-worker": "data_service.worker",
    "trainer-worker": "trainer_service.worker",
}
#: the service whose queue each worker serves
WORKER_QUEUES = {
    "eval-worker": "eval-service",
    "data-worker": "data-service",
    "trainer-worker": "trainer-service",
}
SIMULATOR_PORT = DEFAULT_PORTS["simulator"]
#: how long a stack's claim on its queue prefix outlives the launcher (it is renewed every third)
CLAIM_TTL_S = 15


def ports_from_env(environ: Mapping[str, str]) -> dict[str, int]:
    """Each process's port: its ``<PREFIX>_PORT`` (``TUTORLAB_SIM_PORT`` for the simulator), else
    the code's default (``tutorlab.settings.DEFAULT_PORTS``)."""
    ports = {
        name: int(environ.get(f"{prefix}PORT", DEFAULT_PORTS[name]))
        for name, (_, prefix) in SERVICES.items()
    }
    ports["simulator"] = int(environ.get("TUTORLAB_SIM_PORT", SIMULATOR_PORT))
    return ports


def free_port() -> int:
    return free_ports(["port"])["port"]


def free_ports(names: Iterable[str]) -> dict[str, int]:
    """A free port per name, all different: the sockets stay bound until every port is chosen
    (ports picked one at a time can repeat; two services on one port pass each other's
    readiness check, and the one that lost the bind exits unnoticed)."""
    with contextlib.ExitStack() as held:
        ports = {}
        for name in names:
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports[name] = int(sock.getsockname()[1])
        return ports


def _in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (a stack must not answer for another)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Stack:
    """Processes of one local TutorLab. ``start()`` returns when every service is ready and
    every worker has recorded its health in Redis (it polls its queue)."""

    root: Path
    redis_url: str = "redis://localhost:6379/0"
    dataset_mirror: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    sim_env: dict[str, str] = field(default_factory=dict)
    workers: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(WORKERS, 1))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_dir: Path | None = None
    #: by process name, the arguments after the interpreter that replace ``-m <module>`` (tests
    #: run a service and its worker with job kinds that exist only for tests)
    commands: dict[str, list[str]] = field(default_factory=dict)
    #: also copy each process's output to this stream, each line prefixed with the process name
    #: (``make dev``); the log files get it either way
    echo: IO[str] | None = None
    _claim: threading.Event | None = field(default=None, init=False, repr=False)

    @property
    def queue_prefix(self) -> str:
        return self.env.get("TUTORLAB_QUEUE_PREFIX") or os.environ.get(
            "TUTORLAB_QUEUE_PREFIX", "tutorlab"
        )

    @property
    def claim_key(self) -> str:
        return f"{self.queue_prefix}:stack"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TUTORLAB_DATA_DIR=str(self.root / "var"),
            TUTORLAB_OUTPUTS_DIR=str(self.root / "outputs"),
            REDIS_URL=self.redis_url,
            TUTOR_API_URL=self.url("tutor-api"),
            EVAL_SERVICE_URL=self.url("eval-service"),
            DATA_SERVICE_URL=self.url("data-service"),
            TRAINER_SERVICE_URL=self.url("trainer-service"),
            # a simulated training's sampler is served by this stack's simulator
            TRAINER_SERVICE_SIM_SAMPLER_BASE_URL=f"{self.url('simulator')}/v1",
            PYTHONUNBUFFERED="1",
        )
        if self.dataset_mirror is not None:
            env["TUTORLAB_DATASET_MIRROR"] = str(self.dataset_mirror)
        for name, (_, prefix) in SERVICES.items():
            env[f"{prefix}PORT"] = str(self.ports[name])
            env.pop(f"{prefix}DATABASE_URL", None)
        env.update(self.env)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log_dir = self.log_dir or self.root / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = (log_dir / f"{name}.log").open("ab")
        if self.echo is None:
            self.procs[name] = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            return
        proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        threading.Thread(
            target=_copy_lines, args=(proc, name, log, self.echo), daemon=True, name=name
        ).start()

    def _claim_queue_prefix(self) -> None:
        """Refuse to start beside another stack with the same queue prefix on the same Redis
        (its workers would take this stack's jobs, and this stack's theirs); else hold a claim,
        renewed while the stack runs, that the next one will see."""
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
        try:
            claim = json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "root": str(self.root)}
            )
            try:
                taken = not client.set(self.claim_key, claim, nx=True, ex=CLAIM_TTL_S)
                owner = client.get(self.claim_key) if taken else None
                if isinstance(owner, bytes):
                    owner = owner.decode()
                workers = (
                    []
                    if taken
                    else sorted(
                        key.decode()
                        for key in client.scan_iter(f"{self.queue_prefix}:*:health-check")
                    )
                )
            except redis.RedisError as exc:
                raise RuntimeError(f"Redis does not answer at {self.redis_url}: {exc}") from exc
            if taken or workers:
                what = (
                    f"another TutorLab stack ({owner!s})"
                    if taken
                    else f"running workers ({', '.join(workers)})"
                )
                if not taken:
                    client.delete(self.claim_key)
                raise RuntimeError(
                    f"queue prefix {self.queue_prefix!r} on {self.redis_url} is in use by {what}: "
                    "stop that stack, or set TUTORLAB_QUEUE_PREFIX to run a second one"
                )
        finally:
            client.close()
        stop = self._claim = threading.Event()
        threading.Thread(target=self._renew_claim, args=(stop, claim), daemon=True).start()

    def _renew_claim(self, stop: threading.Event, claim: str) -> None:
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
        with contextlib.closing(client):
            while not stop.wait(CLAIM_TTL_S / 3):
                with contextlib.suppress(redis.RedisError):
                    client.set(self.claim_key, claim, ex=CLAIM_TTL_S)
            with contextlib.suppress(redis.RedisError):
                if client.get(self.claim_key) == claim.encode():
                    client.delete(self.claim_key)

    def start(self, timeout_s: float = 90.0) -> Stack:
        """Start every process and wait until each answers: the services within ``timeout_s``,
        then the workers within ``timeout_s`` again; if any fails, stop the ones already started
        (none is left bound to its port) and raise."""
        for name in SERVICES:
            self.ports.setdefault(name, DEFAULT_PORTS[name])
        self.ports.setdefault("simulator", SIMULATOR_PORT)
        taken = [f"{name} :{port}" for name, port in self.ports.items() if _in_use(port)]
        if taken:
            raise RuntimeError(
                f"ports already in use: {', '.join(taken)} (another TutorLab stack, or a process "
                "left from one?): stop it, or set the <PREFIX>_PORT variables"
            )
        self._claim_queue_prefix()
        try:
            return self._start(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout_s: float) -> Stack:
        env = self.environment()
        sim_env = {
            **env,
            "TUTORLAB_SIM_PORT": str(self.ports["simulator"]),
            "TUTORLAB_SIM_HOST": "127.0.0.1",
            **self.sim_env,
        }
        self._spawn("simulator", [sys.executable, "-m", "tutorlab_sim"], sim_env)
        for name, (module, _) in SERVICES.items():
            self._spawn(name, [sys.executable, *self.commands.get(name, ["-m", module])], env)
        self.wait_ready(timeout_s)
        for name in WORKERS:
            for index in range(self.workers.get(name, 1)):
                self.start_worker(name, index=index, env=env)
        self.wait_workers(timeout_s)  # as long again: workers import more than their services
        return self

    def start_worker(
        self,
        name: str,
        target: str | None = None,
        index: int = 0,
        env: dict[str, str] | None = None,
    ) -> str:
        key = f"{name}-{index}" if index else name
        args = ["-m", target] if target else self.commands.get(name, ["-m", WORKERS[name]])
        self._spawn(key, [sys.executable, *args], env or self.environment())
        return key

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pending = {"simulator": "/healthz", **{n: "/readyz" for n in SERVICES}}
        while pending:
            for name, path in list(pending.items()):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see its log")
                try:
                    if httpx.get(self.url(name) + path, timeout=2).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout_s:.0f} s: {sorted(pending)}")
            time.sleep(0.2)

    def worker_health_key(self, name: str) -> tuple[str, str]:
        """(Redis URL, health key) of worker ``name``'s queue, as its service's settings resolve
        them in this stack (``<PREFIX>_QUEUE_PREFIX`` and ``<PREFIX>_REDIS_URL`` win over
        ``TUTORLAB_QUEUE_PREFIX`` and the stack's Redis)."""
        env = {**os.environ, **self.env}
        service = WORKER_QUEUES[name]
        prefix = SERVICES[service][1]
        queue_prefix = env.get(f"{prefix}QUEUE_PREFIX") or self.queue_prefix
        url = env.get(f"{prefix}REDIS_URL") or self.redis_url
        return url, health_check_key(f"{queue_prefix}:{service}")

    def wait_workers(self, timeout_s: float) -> None:
        """Wait until each started worker's queue has a health key in Redis (written at a
        worker's first poll: what ``<pkg>.worker_probe --check`` reads). On a busy machine a
        worker takes many seconds to import and start; a stack that returned before would hand
        its user jobs nobody polls for yet."""
        deadline = time.monotonic() + timeout_s
        pending = {
            name: self.worker_health_key(name) for name in WORKERS if self.workers.get(name, 1) > 0
        }
        clients: dict[str, redis.Redis] = {}
        try:
            while pending:
                for name, (url, key) in list(pending.items()):
                    proc = self.procs.get(name)
                    if proc is not None and proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with {proc.returncode}; see its log")
                    if url not in clients:
                        clients[url] = redis.Redis.from_url(
                            url, socket_timeout=5, socket_connect_timeout=5
                        )
                    with contextlib.suppress(redis.RedisError):
                        if clients[url].exists(key):
                            del pending[name]
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"workers not polling after {timeout_s:.0f} s: {sorted(pending)}"
                    )
                time.sleep(0.2)
        finally:
            for client in clients.values():
                client.close()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.procs.clear()
        if self._claim is not None:
            self._claim.set()
            self._claim = None

    def exited(self) -> dict[str, int]:
        """The processes that have ended, with their exit codes."""
        return {
            name: code for name, proc in self.procs.items() if (code := proc.poll()) is not None
        }

    def __enter__(self) -> Stack:
        return self if self.procs else self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _copy_lines(proc: subprocess.Popen[bytes], name: str, log: IO[bytes], echo: IO[str]) -> None:
    assert proc.stdout is not None
    width = max(map(len, [*SERVICES, *WORKERS, "simulator"])) + 2
    with log:
        for line in proc.stdout:
            log.write(line)
            log.flush()
            echo.write(f"{name:<{width}}| {line.decode(errors='replace')}")
            echo.flush()


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _dev_mirror(root: Path) -> Path | None:
    """``TUTORLAB_DATASET_MIRROR``, else the copy ``make demo`` downloaded under ``var/``."""
    configured = os.environ.get("TUTORLAB_DATASET_MIRROR")
    if configured:
        return Path(configured)
    # make dev's own data directory, then the demo's (TUTORLAB_HOME var/demo)
    for downloaded in (root / "var" / "datasets", root / "var" / "demo" / "var" / "datasets"):
        if (downloaded / "gsm8k" / "test.jsonl").is_file():
            return downloaded
    print(
        "devstack: no dataset mirror (TUTORLAB_DATASET_MIRROR unset, nothing in var/datasets): "
        "the simulator knows no GSM8K or MATH problem; `make demo` downloads them once",
        file=sys.stderr,
        flush=True,
    )
    return None


def main() -> int:
    """``make dev``: the stack in the foreground until TERM or Ctrl-C, or until a process ends."""
    # installed before anything starts: a TERM during start-up also stops what was started
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    root = Path(os.environ.get("TUTORLAB_HOME", ".")).resolve()
    mirror = _dev_mirror(root)
    stack = Stack(
        root=root,
        redis_url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        dataset_mirror=mirror,
        ports=ports_from_env(os.environ),
        log_dir=root / "var" / "logs",
        echo=sys.stdout,
    )
    try:
        try:
            stack.start()
        except (RuntimeError, TimeoutError) as exc:
            print(f"devstack: {exc}", file=sys.stderr, flush=True)
            return 1
        urls = ", ".join(f"{n} {stack.url(n)}" for n in stack.ports)
        print(f"TutorLab is up (queue prefix {stack.queue_prefix!r}): {urls}", flush=True)
        while not (ended := stack.exited()):
            time.sleep(0.5)
        print(f"devstack: {ended} ended; stopping the rest", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("devstack: stopping", flush=True)
        return 0
    finally:
        # a second TERM or Ctrl-C must not cut the stopping short and leave processes behind
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
