"""Process execs and exits from the kernel: a storm of short-lived processes, exit codes."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.sensors.base import Observation
from agent.sensors.process import ProcessConfig, ProcessSensor
from event_contract import ProcessEvent
from tests.unit.agent.sensors.contract_helpers import as_event
from tests.unit.agent.sensors.harness import running

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the proc connector needs root (CAP_NET_ADMIN)"),
]

STORM = 1000
TRUE_PROGRAM = os.path.realpath("/bin/true")  # /usr/bin/true on a merged-/usr system
SHELL = shutil.which("sh") or "/bin/sh"
SHELL_PROGRAM = os.path.realpath(SHELL)


def ended(pid: int) -> Callable[[Observation], bool]:
    return lambda observation: observation.action == "end" and observation.fields["process"]["pid"] == pid


async def test_exec_storm_of_short_lived_processes_is_captured_with_executables(tmp_path: Path) -> None:
    sensor = ProcessSensor(ProcessConfig(), tmp_path)
    async with running(sensor) as seen:
        assert sensor.health().status == "ok", sensor.health()
        storm = await asyncio.create_subprocess_exec(
            "/bin/bash", "-c", f"for i in $(seq {STORM}); do /bin/true; done"
        )
        assert await storm.wait() == 0
        # Events arrive in kernel order: the shell's exit comes after the exec of each of its children.
        await seen.wait_for(ended(storm.pid), within_s=60)
        observations = list(seen.observations)
    events = [as_event(observation) for observation in observations]
    execs = [event for event in events if isinstance(event, ProcessEvent) and event.event.action == "exec"]
    storm_trues = [
        event
        for event in execs
        if event.process.executable == TRUE_PROGRAM
        and event.process.parent is not None
        and event.process.parent.pid == storm.pid
    ]
    ratio = len(storm_trues) / STORM
    print(
        f"exec storm: {len(storm_trues)}/{STORM} captured with executable {TRUE_PROGRAM} ({ratio:.1%}); "
        f"sensor counters {sensor.counters}"
    )
    assert len(storm_trues) <= STORM
    assert ratio >= 0.99, f"only {len(storm_trues)} of {STORM} execs captured with the right executable"
    assert sensor.counters["kernel_drops"] == 0


async def test_exit_codes_and_the_exec_they_belong_to(tmp_path: Path) -> None:
    sensor = ProcessSensor(ProcessConfig(), tmp_path)
    async with running(sensor) as seen:
        child = await asyncio.create_subprocess_exec(SHELL, "-c", "sleep 0.2; exit 7")
        assert await child.wait() == 7
        end = await seen.wait_for(ended(child.pid), within_s=10)
        started = await seen.wait_for(
            lambda o: o.action == "exec" and o.fields["process"]["pid"] == child.pid, within_s=10
        )
    end_event, exec_event = as_event(end), as_event(started)
    assert isinstance(end_event, ProcessEvent)
    assert isinstance(exec_event, ProcessEvent)
    assert end_event.process.exit_code == 7
    assert end_event.process.entity_id == exec_event.process.entity_id
    assert exec_event.process.executable == SHELL_PROGRAM
    assert exec_event.process.args == [SHELL, "-c", "sleep 0.2; exit 7"]
    assert exec_event.process.parent is not None
    assert exec_event.process.parent.pid == os.getpid()
    assert exec_event.process.hash is not None
    assert exec_event.process.user is not None
    assert exec_event.process.user.name == "root"
