"""Run the whole stack locally as real processes: the four services, three workers, simulator.

Used by ``make demo``, the end-to-end tests and the load benchmark, so all three exercise the
same processes a deployment runs. ``python -m tutorlab.dev.devstack`` starts it in the foreground.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tutorlab.settings import DEFAULT_PORTS

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
SIMULATOR_PORT = DEFAULT_PORTS["simulator"]


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
    """Processes of one local TutorLab. ``start()`` returns when every service is ready."""

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
        self.procs[name] = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, timeout_s: float = 90.0) -> Stack:
        """Start every process and wait until each answers; if any fails, stop the ones already
        started (none is left bound to its port) and raise."""
        for name in SERVICES:
            self.ports.setdefault(name, DEFAULT_PORTS[name])
        self.ports.setdefault("simulator", SIMULATOR_PORT)
        taken = [f"{name} :{port}" for name, port in self.ports.items() if _in_use(port)]
        if taken:
            raise RuntimeError(
                f"ports already in use: {', '.join(taken)} (another TutorLab stack, or a process "
                "left from one?): stop it, or set the <PREFIX>_PORT variables"
            )
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
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main() -> None:
    root = Path(os.environ.get("TUTORLAB_HOME", ".")).resolve()
    mirror = os.environ.get("TUTORLAB_DATASET_MIRROR")
    stack = Stack(
        root=root,
        redis_url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        dataset_mirror=Path(mirror) if mirror else None,
        log_dir=root / "var" / "logs",
    )
    stack.start()
    print("TutorLab is up:", ", ".join(f"{n} {stack.url(n)}" for n in stack.ports), flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
