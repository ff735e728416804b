"""The contract of the process listener, run over both: the Python one and the compiled one.

Each is started as the sensor's receiver starts it (:class:`ConnectorReceiver`) and watches real execs
and exits from the kernel; what they send must be what the agent's records say, field for field, and the
same from both where they read the same process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.sensors.process import ProcessConfig, ProcessSensor
from agent.sensors.process import receiver as receiver_module
from agent.sensors.process.channel import Receiver, loads
from agent.sensors.process.procfs import ProcStat, read_args, read_link, read_stat
from agent.sensors.process.receiver import (
    ConnectorReceiver,
    ConnectorUnavailable,
    Listener,
    listener_command,
    native_listener,
)
from agent.sensors.process.snapshotter import ExecSeen, ExitSeen, Failed, Seen
from tests.unit.agent.sensors.harness import running as running_sensor

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the proc connector and fanotify need root"),
]

LISTENERS: list[Listener] = ["python", "native"]
SHELL = os.path.realpath("/bin/sh")
TRUE = os.path.realpath("/bin/true")
# Argument bytes as a program may be given them: invalid UTF-8 (a lone byte, a truncated sequence), valid
# non-ASCII, empty, whitespace.
ODD_ARGS = [b"x\xff\xfey", b"caf\xc3\xa9", b"cut\xe2\x82", b"", b"tab\there", b"(paren) )"]
# comm is the program file's name (at most 15 bytes): invalid bytes there are decoded with "replace".
ODD_NAME = b"od)d\xff\xe2\x82 (n"


def exe_key(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_mtime_ns


def native_or_skip(listener: Listener) -> None:
    if listener == "native" and native_listener() is None:
        # Where cargo is installed, `pip install` builds it: its absence there is a failure, not a skip.
        if shutil.which("cargo") is not None:
            pytest.fail("cargo is installed but the native listener was not built")
        pytest.skip("the native listener is not installed (no cargo at install)")


class Running:
    """A started receiver and what it has received so far."""

    def __init__(self, listener: Listener, report_exits: bool = True) -> None:
        native_or_skip(listener)
        self._arrived = threading.Event()
        self.receiver = ConnectorReceiver(
            4 * 1024 * 1024, 10, report_exits, 100_000, self._arrived.set, listener=listener
        )
        self.receiver.start()
        self.seen: list[Seen] = []

    def wait_for(self, predicate: Callable[[Seen], bool], within_s: float = 10) -> Seen:
        deadline = time.monotonic() + within_s
        while True:
            self.seen.extend(self.receiver.drain())
            for item in self.seen:
                if predicate(item):
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"nothing matching within {within_s} s")
            self._arrived.wait(min(remaining, 0.2))
            self._arrived.clear()

    @property
    def pid(self) -> int:
        process = self.receiver._process
        assert process is not None
        return process.pid


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[Running]:
    run = Running(request.param)
    yield run
    run.receiver.stop()


def exec_of(pid: int) -> Callable[[Seen], bool]:
    return lambda item: isinstance(item, ExecSeen) and item.process.pid == pid


def exit_of(pid: int) -> Callable[[Seen], bool]:
    return lambda item: isinstance(item, ExitSeen) and item.event.pid == pid


def odd_process(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[bytes], bytes]:
    """A shell started through a link of an odd name, in a directory of an odd name, with odd arguments;
    it lives 0.3 s (long enough to be read) and exits with 3."""
    directory = os.path.join(bytes(tmp_path), b"dir \xfe\xc3\xa9")
    os.mkdir(directory)
    link = os.path.join(directory, ODD_NAME)
    os.symlink(SHELL.encode(), link)
    # "; exit 3" keeps the shell from exec'ing sleep in its place.
    argv = [link, b"-c", b"sleep 0.3; exit 3", *ODD_ARGS]
    return subprocess.Popen(argv, cwd=directory), argv, directory


@pytest.mark.parametrize("running", LISTENERS, indirect=True)
def test_the_listener_starts_real_time_with_fanotify_as_root(running: Running) -> None:
    assert running.receiver.listener in LISTENERS
    assert running.receiver.realtime
    assert running.receiver.exec_opens
    policy = os.sched_getscheduler(running.pid)
    assert policy == os.SCHED_FIFO


@pytest.mark.parametrize("running", LISTENERS, indirect=True)
def test_a_real_true_is_seen_with_its_program_and_parent(running: Running) -> None:
    child = subprocess.Popen(["/bin/true"])
    assert child.wait() == 0
    seen = running.wait_for(exec_of(child.pid))
    end = running.wait_for(exit_of(child.pid))
    assert isinstance(seen, ExecSeen)
    assert isinstance(end, ExitSeen)
    # A /bin/true may be gone before /proc is read: then fanotify names its program.
    assert seen.process.executable == TRUE
    assert seen.process.exe_key == exe_key(TRUE)
    assert seen.process.executable_source in {"procfs", "exec_open"}
    assert seen.process.args in {None, ("/bin/true",)}
    assert abs(seen.process.seen_ns - time.time_ns()) < 60 * 10**9
    parent = seen.parent
    assert parent is not None
    assert parent.pid == os.getpid()
    assert parent.executable == read_link(f"/proc/{os.getpid()}/exe")
    assert parent.args == read_args(os.getpid())
    assert parent.stat == read_stat(os.getpid())
    assert end.event.exit_code == 0


@pytest.mark.parametrize("running", LISTENERS, indirect=True)
def test_odd_names_and_arguments_are_decoded_as_python_decodes_them(running: Running, tmp_path: Path) -> None:
    child, argv, directory = odd_process(tmp_path)
    assert child.wait() == 3
    seen = running.wait_for(exec_of(child.pid))
    end = running.wait_for(exit_of(child.pid))
    assert isinstance(seen, ExecSeen)
    assert isinstance(end, ExitSeen)
    process = seen.process
    assert process.args == tuple(arg.decode("utf-8", "surrogateescape") for arg in argv)
    assert process.cwd == os.fsdecode(directory)
    assert process.executable == SHELL
    assert process.exe_key == exe_key(SHELL)
    assert process.executable_source == "procfs"
    assert process.uid == 0
    assert process.gid == 0
    comm = ODD_NAME[:15].decode("utf-8", "replace")
    assert process.stat is not None
    assert process.stat.comm == comm
    assert process.stat.ppid == os.getpid()
    assert seen.parent is not None
    assert seen.parent.pid == os.getpid()
    assert end.event.exit_code == 3
    assert end.stat is None or end.stat.comm == comm


def test_both_listeners_send_the_same_records_for_the_same_process(tmp_path: Path) -> None:
    runs = [Running(listener) for listener in LISTENERS]
    try:
        child, _argv, _directory = odd_process(tmp_path)
        assert child.wait() == 3
        execs = [run.wait_for(exec_of(child.pid)) for run in runs]
        exits = [run.wait_for(exit_of(child.pid)) for run in runs]
    finally:
        for run in runs:
            run.receiver.stop()
    python_exec, native_exec = execs
    assert isinstance(python_exec, ExecSeen)
    assert isinstance(native_exec, ExecSeen)
    # Each read the process at its own moment: everything but that moment is the same.
    assert native_exec.process._replace(seen_ns=0) == python_exec.process._replace(seen_ns=0)
    assert native_exec.parent == python_exec.parent
    python_exit, native_exit = exits
    assert isinstance(python_exit, ExitSeen)
    assert isinstance(native_exit, ExitSeen)
    assert native_exit.event == python_exit.event
    assert isinstance(native_exit.seen_ns, int)


@pytest.mark.parametrize("running", LISTENERS, indirect=True)
def test_a_process_gone_before_proc_is_read_has_its_program_from_fanotify_and_parent_from_its_fork(
    running: Running,
) -> None:
    # The listener is stopped while the process runs and is reaped: when it reads /proc, nothing is left.
    os.kill(running.pid, signal.SIGSTOP)
    try:
        child = subprocess.Popen(["/bin/true"])
        assert child.wait() == 0
    finally:
        os.kill(running.pid, signal.SIGCONT)
    seen = running.wait_for(exec_of(child.pid))
    end = running.wait_for(exit_of(child.pid))
    assert isinstance(seen, ExecSeen)
    assert isinstance(end, ExitSeen)
    process = seen.process
    assert (process.executable, process.exe_key, process.executable_source) == (
        TRUE,
        exe_key(TRUE),
        "exec_open",
    )
    assert (process.args, process.stat, process.uid, process.gid, process.cwd) == (None,) * 5
    assert seen.parent is not None
    assert seen.parent.pid == os.getpid()
    assert isinstance(seen.parent.stat, ProcStat)
    assert end.stat is None
    assert end.event.exit_code == 0


@pytest.mark.parametrize("listener", LISTENERS)
def test_exits_are_not_sent_unless_asked_for(listener: Listener) -> None:
    run = Running(listener, report_exits=False)
    try:
        first = subprocess.Popen(["/bin/true"])
        assert first.wait() == 0
        run.wait_for(exec_of(first.pid))
        # Events come in kernel order: once the second exec is here, the first exit was handled.
        second = subprocess.Popen(["/bin/true"])
        assert second.wait() == 0
        run.wait_for(exec_of(second.pid))
    finally:
        run.receiver.stop()
    assert [item for item in run.seen if isinstance(item, ExitSeen)] == []


_ORPHANING_AGENT = """
import os, sys
from agent.sensors.process.receiver import ConnectorReceiver
receiver = ConnectorReceiver(65536, 0, True, 100, lambda: None, listener=sys.argv[1])
receiver.start()
print(receiver._process.pid, flush=True)
os._exit(0)
"""


@pytest.mark.parametrize("listener", LISTENERS)
def test_the_listener_exits_when_the_agent_goes_away(listener: Listener) -> None:
    native_or_skip(listener)
    agent = subprocess.run(
        [sys.executable, "-c", _ORPHANING_AGENT, listener], capture_output=True, text=True, check=True
    )
    orphan = int(agent.stdout)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{orphan}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":
            return
        time.sleep(0.1)
    os.kill(orphan, signal.SIGKILL)
    raise AssertionError(f"the {listener} listener outlived its agent")


@pytest.mark.parametrize("listener", LISTENERS)
def test_a_connector_that_cannot_be_opened_is_reported_as_failed(listener: Listener) -> None:
    native_or_skip(listener)
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    import socket

    ours, theirs = socket.socketpair()
    arguments = [str(theirs.fileno()), "65536", "0", "1", "-1"]
    binary = native_listener()
    command = [binary, *arguments] if listener == "native" and binary else listener_command(arguments)
    # The proc connector exists in the initial network namespace only.
    process = subprocess.Popen(["unshare", "--net", *command], pass_fds=(theirs.fileno(),))
    theirs.close()
    channel = Receiver(socket.socket(fileno=ours.detach()))
    try:
        assert channel.poll(10)
        first = loads(channel.recv_bytes())
    finally:
        channel.close()
        assert process.wait(timeout=10) == 0
    assert isinstance(first, Failed)
    assert first.errno != 0
    assert first.reason == f"[Errno {first.errno}] {os.strerror(first.errno)}"


async def test_the_sensor_says_in_its_health_which_listener_runs(tmp_path: Path) -> None:
    sensor = ProcessSensor(ProcessConfig(), tmp_path)
    async with running_sensor(sensor):
        health = sensor.health()
    assert health.status == "ok"
    assert health.detail is not None
    expected = (
        "native listener" if native_listener() is not None else "Python listener (native one not installed)"
    )
    assert health.detail.split("; ")[0] == expected


@pytest.mark.parametrize("broken", ["/bin/false", "/etc/hostname"])
def test_a_native_listener_that_cannot_run_gives_way_to_the_python_one(
    monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    # /bin/false ends at once (as a binary linked against a newer C library would); /etc/hostname cannot
    # be executed at all.
    monkeypatch.setattr(receiver_module, "native_listener", lambda: broken)
    receiver = ConnectorReceiver(65536, 0, True, 100, lambda: None)
    receiver.start()
    try:
        assert receiver.listener == "python"
        assert receiver.native_failure is not None
        child = subprocess.Popen(["/bin/true"])
        assert child.wait() == 0
        deadline = time.monotonic() + 10
        seen: list[Seen] = []
        while not any(exec_of(child.pid)(item) for item in seen):
            assert time.monotonic() < deadline, "the Python listener reported nothing"
            time.sleep(0.05)
            seen.extend(receiver.drain())
    finally:
        receiver.stop()
    asked = ConnectorReceiver(65536, 0, True, 100, lambda: None, listener="native")
    with pytest.raises(ConnectorUnavailable):
        asked.start()


async def test_the_sensor_says_why_the_native_listener_did_not_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(receiver_module, "native_listener", lambda: "/bin/false")
    sensor = ProcessSensor(ProcessConfig(), tmp_path)
    async with running_sensor(sensor):
        health = sensor.health()
    assert health.status == "ok"
    assert health.detail is not None
    assert health.detail.startswith("Python listener (native one did not start: the native listener ended")


def test_the_native_listener_stays_small() -> None:
    native_or_skip("native")
    run = Running("native")
    try:
        for _ in range(20):
            assert subprocess.run(["/bin/true"], check=False).returncode == 0
        run.wait_for(lambda item: isinstance(item, ExecSeen) and item.process.executable == TRUE)
        status = Path(f"/proc/{run.pid}/status").read_text()
    finally:
        run.receiver.stop()
    rss_kib = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
    # ~2.2 MiB measured (1.2 of it the C library's shared code), against ~9.8 for `python -I -S`.
    assert rss_kib < 4096, f"the native listener holds {rss_kib} KiB"


@pytest.mark.parametrize("listener", LISTENERS)
def test_without_fanotify_a_process_gone_before_proc_is_read_keeps_only_its_parent(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    # As under the systemd unit, which does not grant CAP_SYS_ADMIN: the agent hands over no descriptor.
    monkeypatch.setattr(receiver_module, "_open_fanotify", lambda: -1)
    run = Running(listener)
    try:
        assert not run.receiver.exec_opens
        os.kill(run.pid, signal.SIGSTOP)
        try:
            child = subprocess.Popen(["/bin/true"])
            assert child.wait() == 0
        finally:
            os.kill(run.pid, signal.SIGCONT)
        seen = run.wait_for(exec_of(child.pid))
    finally:
        run.receiver.stop()
    assert isinstance(seen, ExecSeen)
    assert (seen.process.executable, seen.process.exe_key, seen.process.args) == (None, None, None)
    assert seen.process.executable_source == "procfs"
    assert seen.parent is not None
    assert seen.parent.pid == os.getpid()
