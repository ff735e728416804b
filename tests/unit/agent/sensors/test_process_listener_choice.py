"""Which process listener the receiver starts: the compiled one where installed, else the Python one."""

from __future__ import annotations

import sys

import pytest

from agent.sensors.process import receiver
from agent.sensors.process.receiver import ConnectorUnavailable


def test_the_compiled_listener_runs_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receiver, "native_listener", lambda: "/opt/x/bin/canhgac-process-listener")
    assert receiver._command(None, ["5", "1"]) == (
        "native",
        ["/opt/x/bin/canhgac-process-listener", "5", "1"],
    )
    which, command = receiver._command("python", ["5", "1"])
    assert which == "python"
    assert command[:3] == [sys.executable, "-I", "-S"]
    assert command[-2:] == ["5", "1"]


def test_without_it_the_python_listener_runs_unless_the_compiled_one_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(receiver, "native_listener", lambda: None)
    assert receiver._command(None, ["5"]) == ("python", receiver.listener_command(["5"]))
    with pytest.raises(ConnectorUnavailable, match="not installed"):
        receiver._command("native", ["5"])
