"""Proc connector decoding, /proc snapshots, identities, executable hashes and process observations."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.sensors.process.connector import (
    CN_IDX_PROC,
    PROC_EVENT_EXEC,
    PROC_EVENT_EXIT,
    PROC_EVENT_FORK,
    ExecEvent,
    ExitEvent,
    ForkEvent,
    parse,
)
from agent.sensors.process.exe_hash import ExecutableHashes
from agent.sensors.process.identity import BootClock
from agent.sensors.process.observation import exec_observation, exit_observation
from agent.sensors.process.procfs import ProcessSnapshot, ProcStat, read_stat, snapshot
from agent.sensors.process.snapshotter import ExecSeen, ExitSeen, ParentSnapshot, Snapshotter
from event_contract import ProcessEvent
from tests.unit.agent.sensors.contract_helpers import as_event


def message(what: int, body: bytes) -> bytes:
    proc_event = struct.pack("=IIQ", what, 0, 123456789) + body
    cn_msg = struct.pack("=IIIIHH", CN_IDX_PROC, 1, 0, 0, len(proc_event), 0) + proc_event
    return struct.pack("=IHHII", 16 + len(cn_msg), 3, 0, 0, 0) + cn_msg


def test_fork_exec_and_exit_are_decoded_and_threads_skipped() -> None:
    datagram = (
        message(PROC_EVENT_FORK, struct.pack("=iiii", 4001, 4000, 4242, 4242))
        + message(PROC_EVENT_FORK, struct.pack("=iiii", 4242, 4242, 4243, 4242))  # a thread
        + message(PROC_EVENT_EXEC, struct.pack("=ii", 4242, 4242))
        + message(PROC_EVENT_EXIT, struct.pack("=iiII", 4243, 4242, 0, 0))  # a thread
        + message(PROC_EVENT_EXIT, struct.pack("=iiII", 4242, 4242, 3 << 8, 17))
        + message(0x00000004, struct.pack("=iiII", 4242, 4242, 0, 0))  # a uid change: not used
    )
    assert parse(datagram) == [ForkEvent(4000, 4242), ExecEvent(4242), ExitEvent(4242, 3)]


def test_a_process_gone_before_proc_was_read_keeps_the_parent_its_fork_named() -> None:
    vanished = subprocess.Popen(["true"])
    vanished.wait()
    snapshotter = Snapshotter(report_exits=True, exec_opens=None)
    assert snapshotter.see(ForkEvent(os.getpid(), vanished.pid)) is None
    seen = snapshotter.see(ExecEvent(vanished.pid))
    assert isinstance(seen, ExecSeen)
    assert seen.process.stat is None
    assert seen.parent is not None
    assert seen.parent.pid == os.getpid()
    assert seen.parent.executable == os.path.realpath(sys.executable)


def test_a_process_killed_by_a_signal_exits_with_128_plus_signal() -> None:
    datagram = message(PROC_EVENT_EXIT, struct.pack("=iiII", 7, 7, 9, 17))
    assert parse(datagram) == [ExitEvent(7, 137)]


def test_truncated_datagrams_yield_what_is_complete() -> None:
    whole = message(PROC_EVENT_EXEC, struct.pack("=ii", 1, 1))
    assert parse(whole + whole[:20]) == [ExecEvent(1)]
    assert parse(b"") == []


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "30"], cwd=tmp_path)
    time.sleep(0.05)
    yield process
    process.kill()
    process.wait()


def test_snapshot_of_a_live_process(sleeper: subprocess.Popen[bytes], tmp_path: Path) -> None:
    snap = snapshot(sleeper.pid, time.time_ns())
    assert snap.executable == os.path.realpath(shutil.which("sleep") or "")
    assert snap.args == ("sleep", "30")
    assert snap.cwd == str(tmp_path)
    assert snap.stat is not None
    assert snap.stat.ppid == os.getpid()
    assert snap.stat.comm == "sleep"
    assert (snap.uid, snap.gid) == (os.geteuid(), os.getegid())
    assert snap.exe_key is not None


def test_snapshot_of_a_vanished_process_is_empty_not_an_error() -> None:
    process = subprocess.Popen(["true"])
    process.wait()
    snap = snapshot(process.pid, 1)
    assert (snap.executable, snap.args, snap.stat) == (None, None, None)


def test_entity_id_is_stable_per_process_and_differs_across_reuse() -> None:
    clock = BootClock.of_this_host()
    stat = read_stat(os.getpid())
    assert stat is not None
    pid, ticks = os.getpid(), stat.start_ticks
    assert clock.entity_id(pid, ticks) == clock.entity_id(pid, ticks)
    assert clock.entity_id(pid, ticks) != clock.entity_id(pid, ticks + 1)
    started = clock.start_time(stat.start_ticks).timestamp()
    assert abs(started - time.time()) < 24 * 3600


def test_executable_hash_is_computed_once_per_file_version(tmp_path: Path) -> None:
    program = tmp_path / "tool"
    shutil.copy(sys.executable, program)
    st = os.stat(program)
    key = (st.st_dev, st.st_ino, st.st_mtime_ns)
    hashes = ExecutableHashes(capacity=8, max_bytes=1 << 30)
    expected = hashlib.sha256(program.read_bytes()).hexdigest()
    assert hashes.hash(key, pid=0, path=str(program)) == expected
    assert hashes.hash(key, pid=0, path=str(program)) == expected
    assert hashes.computed == 1
    # Another version of the file (new mtime) under the old key is not hashed as if it were the old one.
    os.utime(program, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert hashes.hash((st.st_dev, st.st_ino, st.st_mtime_ns + 1), pid=0, path=str(program)) is None


def test_exec_and_exit_observations_fit_the_contract() -> None:
    clock = BootClock("boot-1", 1_700_000_000.0, 100)
    seen = ExecSeen(
        ProcessSnapshot(
            pid=4242, seen_ns=1_700_000_100 * 10**9, executable="/usr/bin/curl", exe_key=(1, 2, 3),
            args=("curl", "-s", "http://203.0.113.9/x.sh"), stat=ProcStat("curl", 4000, 10_000),
            uid=0, gid=0, cwd="/tmp",
        ),
        ParentSnapshot(4000, "/usr/bin/bash", ("bash",), ProcStat("bash", 1, 5_000)),
    )  # fmt: skip
    observation, known = exec_observation(seen, clock, "c" * 64)
    event = as_event(observation)
    assert isinstance(event, ProcessEvent)
    assert (event.event.action, event.event.type) == ("exec", ["start"])
    assert event.process.command_line == "curl -s http://203.0.113.9/x.sh"
    assert event.process.entity_id == clock.entity_id(4242, 10_000)
    assert event.process.parent is not None
    assert event.process.parent.executable == "/usr/bin/bash"
    assert event.process.parent.entity_id == clock.entity_id(4000, 5_000)
    assert event.process.hash is not None
    assert event.process.hash.sha256 == "c" * 64
    assert event.user is not None
    assert event.user.name == "root"
    exited = ExitSeen(ExitEvent(4242, 6), None, 1_700_000_101 * 10**9)
    ended = as_event(exit_observation(exited, clock, known))
    assert isinstance(ended, ProcessEvent)
    assert (ended.event.action, ended.event.type) == ("end", ["end"])
    assert ended.process.exit_code == 6
    assert ended.process.entity_id == event.process.entity_id
    assert ended.process.executable == "/usr/bin/curl"


def test_a_process_gone_before_proc_was_read_says_so() -> None:
    clock = BootClock("boot-1", 1_700_000_000.0, 100)
    gone = ExecSeen(ProcessSnapshot(pid=5, seen_ns=10**18, stat=ProcStat("true", 4, 1)), None)
    observation, _ = exec_observation(gone, clock, None)
    event = as_event(observation)
    assert isinstance(event, ProcessEvent)
    assert event.process.executable is None
    assert event.process.name == "true"
    assert event.message is not None
    assert "exited before" in event.message
