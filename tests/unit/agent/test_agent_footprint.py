"""What the agent keeps between its bursts of work: no idle hashing threads, a lean listener process."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from agent.sensors.file_integrity import scanner as scanner_module
from agent.sensors.file_integrity.content import ContentPolicy, read_states
from agent.sensors.file_integrity.scanner import Scanner
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.state import FileState
from agent.sensors.process.channel import Receiver, Sender, loads
from agent.sensors.process.receiver import listener_command
from agent.sensors.process.snapshotter import KernelDrops, Started


def _hash_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("fim-hash")]


def test_a_pooled_scan_hashes_every_file_and_leaves_no_hashing_thread(tmp_path: Path) -> None:
    expected = {}
    for index in range(100):  # above the inline threshold: the batch goes to the pool
        path = tmp_path / f"f{index:03d}.bin"
        path.write_bytes(f"content {index}".encode() * (index + 1))
        expected[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    policy = ContentPolicy(1 << 30, marking_enabled=False, marking_extensions=(), marking_scan_bytes=4096)
    scanner = Scanner(PathSelection([tmp_path], ["*"], [], recursive=True), policy, workers=2)
    try:
        states = scanner.states_under(str(tmp_path), {})
    finally:
        scanner.close()
    assert {path: states[path].sha256 for path in expected} == expected
    deadline = time.monotonic() + 5
    while _hash_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _hash_threads() == []


def test_the_process_listener_loads_only_what_it_needs() -> None:
    # The listener's real command line, with its entry point swapped for a report of what is loaded.
    command = listener_command([])
    at = command.index("-c") + 1
    command[at] = (
        "import sys; sys.path.append(sys.argv.pop(1)); import agent.sensors.process.listener\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert set(loaded.split()).isdisjoint(
        {"pydantic", "event_contract", "psutil", "multiprocessing", "hashlib", "site", "subprocess"}
    )
    # ~3 MiB between them (dataclasses brings inspect, ast, dis, tokenize): the listener does without.
    assert set(loaded.split()).isdisjoint({"dataclasses", "inspect", "typing", "contextlib", "pickle", "re"})
    # The socket module's enums (with enum and selectors) ~0.8 MiB: the listener uses _socket's type.
    assert set(loaded.split()).isdisjoint({"socket", "enum", "selectors"})
    # ctypes (with _ctypes and libffi) ~0.7 MiB: the agent opens fanotify and hands the listener the fd.
    assert "ctypes" not in loaded.split()


def test_listener_frames_are_what_a_multiprocessing_connection_receives() -> None:
    ours, theirs = socket.socketpair()
    sender = Sender(theirs)
    receiver = Connection(ours.detach())
    messages = [Started(realtime=False, exec_opens=True), [KernelDrops(3)], "x" * 100_000]
    try:
        for message in messages:
            sender.send(message)
        assert [loads(receiver.recv_bytes()) for _ in messages] == messages
        sender.close()
        with pytest.raises(EOFError):
            receiver.recv_bytes()
    finally:
        receiver.close()


def test_the_sensor_packages_still_export_their_classes() -> None:
    from agent.sensors import Observation, Sensor
    from agent.sensors.process import ProcessConfig, ProcessSensor

    assert ProcessSensor.name == "process"
    assert ProcessConfig().enabled is True
    assert Observation.__name__ == "Observation"
    assert Sensor.__name__ == "Sensor"


def test_hashing_threads_run_at_the_scanner_niceness_and_the_caller_keeps_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(40):
        (tmp_path / f"f{index:02d}").write_bytes(b"x" * index)
    seen: set[int] = set()

    def recording(files: list[tuple[str, os.stat_result]], policy: ContentPolicy) -> list[FileState]:
        seen.add(os.getpriority(os.PRIO_PROCESS, 0))  # on Linux: this thread's nice value
        return read_states(files, policy)

    monkeypatch.setattr(scanner_module, "read_states", recording)
    policy = ContentPolicy(1 << 30, marking_enabled=False, marking_extensions=(), marking_scan_bytes=4096)
    caller_nice = os.getpriority(os.PRIO_PROCESS, 0)
    scanner = Scanner(PathSelection([tmp_path], ["*"], [], recursive=True), policy, workers=2, niceness=3)
    try:
        scanner.states_under(str(tmp_path), {})
    finally:
        scanner.close()

    assert seen == {caller_nice + 3}
    assert os.getpriority(os.PRIO_PROCESS, 0) == caller_nice


def test_the_agent_reads_what_a_multiprocessing_connection_sends_and_sees_the_end() -> None:
    # The agent's Receiver replaced Connection (~1.1 MiB idle): the same frames, long header included.
    ours, theirs = socket.socketpair()
    sender = Connection(theirs.detach())
    receiver = Receiver(ours)
    payloads = [b"", b"short", bytes(range(256)) * 4000]  # the last larger than the socket's buffer

    def send() -> None:
        for payload in payloads:
            sender.send_bytes(payload)
        # Connection's header for payloads of 2 GiB and more: -1, then an 8-byte length.
        os.write(sender.fileno(), struct.pack("!i", -1) + struct.pack("!Q", 5) + b"large")

    sending = threading.Thread(target=send)
    sending.start()
    try:
        assert receiver.poll(5.0)
        assert [bytes(receiver.recv_bytes()) for _ in payloads] == payloads
        assert bytes(receiver.recv_bytes()) == b"large"
        sending.join(5)
        assert not receiver.poll(0.05)
        sender.close()
        assert receiver.poll(1.0)  # the end is readable
        with pytest.raises(EOFError):
            receiver.recv_bytes()
    finally:
        sending.join(5)
        receiver.close()
