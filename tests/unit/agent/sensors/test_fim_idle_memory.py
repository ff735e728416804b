"""What an idle file integrity sensor keeps in memory: nothing of the files its scans looked at."""

from __future__ import annotations

import gc
from pathlib import Path

from agent.sensors.file_integrity import FileIntegrityConfig, FileIntegritySensor
from agent.sensors.file_integrity.diff import Change
from agent.sensors.file_integrity.state import FileState
from tests.unit.agent.sensors.harness import running


def _alive() -> int:
    gc.collect()
    return sum(isinstance(obj, FileState | Change) for obj in gc.get_objects())


async def test_an_idle_sensor_keeps_no_state_of_the_files_it_scanned(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    for index in range(200):
        (watched / f"f{index:03d}.conf").write_text(str(index))
    alive_before = _alive()
    sensor = FileIntegritySensor(
        FileIntegrityConfig(paths=[watched], exclude=[], debounce_s=0.1), tmp_path / "state"
    )
    async with running(sensor) as seen:
        # The baseline is recorded (the first scan's 200 changes are not reported, nor kept).
        assert _alive() == alive_before
        (watched / "f000.conf").write_text("changed")
        await seen.wait_for(
            lambda o: o.action == "modification" and o.fields["file"]["path"] == str(watched / "f000.conf"),
            within_s=10,
        )
        await seen.settle(quiet_s=0.3)
        # A change reported from inotify leaves nothing behind either.
        assert _alive() == alive_before
