"""Following an auth log: complete lines only, rotation by rename, truncation, positions across restarts."""

from __future__ import annotations

import os
from pathlib import Path

from agent.sensors.login.follower import LogFollower
from agent.sensors.login.positions import Position, PositionStore


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(text)


def test_first_run_starts_at_the_end_and_reads_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("old line\n")
    follower = LogFollower(log, None, start_at_end=True)
    assert follower.read_lines(4096) == []
    append(log, "new one\nhalf")
    assert follower.read_lines(4096) == ["new one"]
    append(log, " done\n")
    assert follower.read_lines(4096) == ["half done"]


def test_first_run_from_the_start_when_asked(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("a\r\nb\n")
    assert LogFollower(log, None, start_at_end=False).read_lines(4096) == ["a", "b"]


def test_rotation_by_rename_drains_the_old_file_then_reads_the_new(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("")
    follower = LogFollower(log, None, start_at_end=True)
    follower.read_lines(4096)
    append(log, "before rotation\n")
    os.rename(log, tmp_path / "auth.log.1")
    append(tmp_path / "auth.log.1", "late write to old file\n")
    log.write_text("first in new file\n")
    lines = follower.read_lines(4096) + follower.read_lines(4096)
    assert lines == ["before rotation", "late write to old file", "first in new file"]
    assert follower.position == Position(os.stat(log).st_ino, len("first in new file\n"))


def test_truncation_in_place_restarts_at_zero(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("")
    follower = LogFollower(log, None, start_at_end=True)
    assert follower.open()
    append(log, "one\ntwo\n")
    assert follower.read_lines(4096) == ["one", "two"]
    with open(log, "w", encoding="utf-8") as stream:  # copytruncate
        stream.write("x\n")
    assert follower.read_lines(4096) == ["x"]


def test_a_saved_position_resumes_and_survives_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    store = PositionStore(tmp_path / "state" / "positions.json")
    log.write_text("")
    follower = LogFollower(log, None, start_at_end=True)
    assert follower.open()
    append(log, "seen\n")
    assert follower.read_lines(4096) == ["seen"]
    assert follower.position is not None
    store.save({str(log): follower.position})
    follower.close()
    append(log, "while stopped\n")
    resumed = LogFollower(log, store.load()[str(log)], start_at_end=True)
    assert resumed.read_lines(4096) == ["while stopped"]


def test_a_saved_position_of_a_rotated_file_reads_the_new_one_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("new file line\n")
    stale = Position(inode=os.stat(log).st_ino + 12345, offset=999)
    assert LogFollower(log, stale, start_at_end=True).read_lines(4096) == ["new file line"]


def test_reads_are_bounded_and_continue_next_time(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("".join(f"line {index:04d}\n" for index in range(100)))
    follower = LogFollower(log, None, start_at_end=False)
    first = follower.read_lines(100)
    assert 0 < len(first) < 100
    rest: list[str] = []
    while batch := follower.read_lines(100):
        rest.extend(batch)
    assert first + rest == [f"line {index:04d}" for index in range(100)]


def test_a_damaged_position_file_is_ignored(tmp_path: Path) -> None:
    file = tmp_path / "positions.json"
    file.write_text("{not json")
    assert PositionStore(file).load() == {}


def test_a_log_created_after_start_is_read_from_its_beginning(tmp_path: Path) -> None:
    log = tmp_path / "secure"
    follower = LogFollower(log, None, start_at_end=True)
    assert follower.read_lines(4096) == []
    log.write_text("first line of a new log\n")
    assert follower.read_lines(4096) == ["first line of a new log"]
