"""The process sensor's fallback when the proc connector is not available: polling, reported degraded."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from agent.sensors.process import ProcessConfig, ProcessSensor
from event_contract import ProcessEvent
from tests.unit.agent.sensors.contract_helpers import as_event
from tests.unit.agent.sensors.harness import running

SLEEP_PROGRAM = os.path.realpath(shutil.which("sleep") or "/bin/sleep")


async def test_polling_sees_processes_that_live_longer_than_the_interval(tmp_path: Path) -> None:
    sensor = ProcessSensor(ProcessConfig(source="poll", poll_interval_s=0.1), tmp_path)
    async with running(sensor) as seen:
        health = sensor.health()
        assert health.status == "degraded"
        assert health.detail == "polling by configuration"
        child = await asyncio.create_subprocess_exec(SLEEP_PROGRAM, "0.6")
        started = await seen.wait_for(
            lambda o: o.action == "exec" and o.fields["process"]["pid"] == child.pid, within_s=5
        )
        await child.wait()
        ended = await seen.wait_for(
            lambda o: o.action == "end" and o.fields["process"]["pid"] == child.pid, within_s=5
        )
    exec_event, end_event = as_event(started), as_event(ended)
    assert isinstance(exec_event, ProcessEvent)
    assert isinstance(end_event, ProcessEvent)
    assert exec_event.process.executable == SLEEP_PROGRAM
    assert exec_event.process.args == [SLEEP_PROGRAM, "0.6"]
    assert end_event.process.exit_code is None  # polling cannot know it
    assert end_event.process.entity_id == exec_event.process.entity_id
