"""File integrity on a real directory: inotify events, and changes made while the sensor was stopped."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.sensors.base import Observation
from agent.sensors.file_integrity import FileIntegrityConfig, FileIntegritySensor
from event_contract import FileEvent
from tests.unit.agent.sensors.contract_helpers import as_event
from tests.unit.agent.sensors.harness import running

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="e2e sensor tests run as root (inotify on system paths)"),
]


def sensor(watched: Path, state: Path) -> FileIntegritySensor:
    return FileIntegritySensor(FileIntegrityConfig(paths=[watched], exclude=[], debounce_s=0.2), state)


def summary(observation: Observation) -> tuple[str, str]:
    event = as_event(observation)
    assert isinstance(event, FileEvent)
    return event.event.action or "", event.file.path


def is_about(path: Path, action: str) -> Callable[[Observation], bool]:
    return lambda observation: summary(observation) == (action, str(path))


def append_in_a_burst(path: Path, text: str, times: int) -> None:
    with open(path, "a") as stream:
        for _ in range(times):
            stream.write(text)
            stream.flush()


async def test_create_change_chmod_delete_give_exactly_those_observations(tmp_path: Path) -> None:
    watched = tmp_path / "www"
    watched.mkdir()
    target = watched / "upload.php"
    async with running(sensor(watched, tmp_path / "state")) as seen:
        target.write_text("<?php echo 'hello';")
        await seen.wait_for(is_about(target, "creation"), within_s=10)
        append_in_a_burst(target, "<?php system($_GET['c']); ?>", times=20)  # one observation
        await seen.wait_for(is_about(target, "modification"), within_s=10)
        os.chmod(target, 0o4755)
        await seen.wait_for(is_about(target, "attributes_modification"), within_s=10)
        target.unlink()
        await seen.wait_for(is_about(target, "deletion"), within_s=10)
        observations = await seen.settle(quiet_s=1.0)
    assert [summary(observation) for observation in observations] == [
        ("creation", str(target)),
        ("modification", str(target)),
        ("attributes_modification", str(target)),
        ("deletion", str(target)),
    ]
    modification, chmod = (as_event(observations[1]), as_event(observations[2]))
    assert isinstance(modification, FileEvent)
    assert isinstance(chmod, FileEvent)
    assert modification.canhgac.file is not None
    assert modification.canhgac.file.previous is not None
    assert modification.canhgac.file.previous.size == len("<?php echo 'hello';")
    assert chmod.file.mode == "04755"
    assert chmod.canhgac.file is not None
    assert chmod.canhgac.file.changed_fields == ["mode"]


async def test_rename_reports_the_old_path(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    (watched / "sshd_config").write_text("PermitRootLogin no\n")
    async with running(sensor(watched, tmp_path / "state")) as seen:
        os.rename(watched / "sshd_config", watched / "sshd_config.bak")
        renamed = await seen.wait_for(is_about(watched / "sshd_config.bak", "rename"), within_s=10)
        observations = await seen.settle(quiet_s=1.0)
    event = as_event(renamed)
    assert isinstance(event, FileEvent)
    assert event.canhgac.file is not None
    assert event.canhgac.file.previous is not None
    assert event.canhgac.file.previous.path == str(watched / "sshd_config")
    assert len(observations) == 1


async def test_changes_made_while_stopped_are_reported_at_the_next_start(tmp_path: Path) -> None:
    watched = tmp_path / "bin"
    watched.mkdir()
    (watched / "ls").write_bytes(b"\x7fELF original")
    (watched / "ps").write_bytes(b"\x7fELF ps")
    state = tmp_path / "state"
    async with running(sensor(watched, state)) as seen:
        assert await seen.settle(quiet_s=0.5) == []  # the first scan records, it does not report
    (watched / "ls").write_bytes(b"\x7fELF trojaned")
    (watched / "ps").unlink()
    (watched / ".hidden").write_text("backdoor")
    async with running(sensor(watched, state)) as seen:
        observations = await seen.settle(quiet_s=1.0)
    assert sorted(summary(observation) for observation in observations) == [
        ("creation", str(watched / ".hidden")),
        ("deletion", str(watched / "ps")),
        ("modification", str(watched / "ls")),
    ]
    async with running(sensor(watched, state)) as seen:
        assert await seen.settle(quiet_s=0.5) == []  # nothing changed: nothing reported
