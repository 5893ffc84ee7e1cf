"""The local process launcher refuses to start on ports another process holds (a stack left
over would answer for the new one), and a stack that fails to start leaves no process behind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tutorlab.dev.devstack import SERVICES, Stack, free_ports


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
