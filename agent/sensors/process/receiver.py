"""The agent's side of the listener process: starting it and collecting what it saw."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

from agent.sensors.process.channel import Receiver, loads
from agent.sensors.process.snapshotter import Failed, KernelDrops, Seen, Started

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 30.0
_CHANNEL_BUFFER_BYTES = 32 * 1024 * 1024
# SO_SNDBUFFORCE / SO_RCVBUFFORCE (<asm-generic/socket.h>) pass the wmem_max/rmem_max caps when privileged.
_FORCE_OPTION = {socket.SO_SNDBUF: 32, socket.SO_RCVBUF: 33}


_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
"""The directory holding the ``agent`` package: besides the standard library, all the listener uses."""
# Appended, not prepended: the standard library keeps precedence over whatever else that directory holds.
_LISTENER_MAIN = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from agent.sensors.process.listener import main; sys.exit(main(sys.argv[1:]))"
)
NATIVE_LISTENER = "canhgac-process-listener"
"""The compiled listener's file name among the environment's scripts (``agent/sensors/process/native``)."""

Listener = Literal["native", "python"]


def listener_command(arguments: list[str]) -> list[str]:
    """The Python listener's command line: isolated (``-I``: no environment, no user site) and without
    ``site`` (``-S``), which with its path hooks (an editable install's finder pulls in pathlib, re, …)
    would cost the listener more RSS than its own code; it imports only the standard library and its
    modules of this package."""
    return [sys.executable, "-I", "-S", "-c", _LISTENER_MAIN, _PACKAGE_ROOT, *arguments]


def native_listener() -> str | None:
    """The compiled listener, which ``pip install`` builds (setuptools-rust) where cargo is installed and
    puts in the environment's scripts directory beside ``canhgac-agent``; None where it is not there."""
    # In a virtual environment (the agent's install) the scripts are beside the interpreter: looked at
    # first, as sysconfig costs the agent ~0.3 MiB of RSS (it loads the build's configuration data).
    beside = os.path.join(os.path.dirname(sys.executable), NATIVE_LISTENER)
    if os.access(beside, os.X_OK):
        return beside
    import sysconfig

    path = os.path.join(sysconfig.get_path("scripts"), NATIVE_LISTENER)
    return path if os.access(path, os.X_OK) else None


def _command(listener: Listener | None, arguments: list[str]) -> tuple[Listener, list[str]]:
    """Which listener runs, and its command line: the compiled one unless ``listener`` asks otherwise or
    it is not installed (then the Python one, for ``listener=None``)."""
    if listener != "python":
        binary = native_listener()
        if binary is not None:
            return "native", [binary, *arguments]
        if listener == "native":
            raise ConnectorUnavailable(f"the native listener ({NATIVE_LISTENER}) is not installed")
    return "python", listener_command(arguments)


def _open_fanotify() -> int:
    """The exec-open fanotify descriptor for the listener, or -1 where it cannot be had (no
    CAP_SYS_ADMIN, no fanotify): the listener then works from /proc alone and says so."""
    from agent.sensors.process.fanotify import open_exec_fanotify

    try:
        return open_exec_fanotify()
    except OSError:
        return -1


def _enlarge(sock: socket.socket, option: int, size: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, _FORCE_OPTION[option], size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, option, size)


class ConnectorUnavailable(OSError):
    """The proc connector could not be opened (no privilege, no kernel support)."""


class _NotStarted(Exception):
    """The listener could not be run, or ended before its first message."""


class ConnectorReceiver:
    """Runs the listener process and a thread that moves its batches into a bounded deque.

    ``start`` blocks until the connector is subscribed (raises :class:`ConnectorUnavailable` otherwise),
    so an exec after ``start`` returns is seen. ``on_ready`` is called from the reader thread after each
    batch; ``drain`` is safe from any thread. Counters: ``kernel_drops`` (socket buffer overflows: events
    lost in the kernel), ``queue_drops`` (the consumer fell behind ``queue_size``), ``received``.
    ``stop`` ends the process and the thread; it is idempotent. ``listener`` chooses the compiled
    listener or the Python one (the same messages, see :mod:`agent.sensors.process.listener`); by default
    the compiled one where it is installed, and the Python one where it is not or cannot run.
    """

    def __init__(
        self,
        buffer_bytes: int,
        priority: int,
        report_exits: bool,
        queue_size: int,
        on_ready: Callable[[], object],
        listener: Listener | None = None,
    ) -> None:
        self._arguments = (buffer_bytes, priority, int(report_exits))
        self._queue_size = queue_size
        self._on_ready = on_ready
        self._items: deque[Seen] = deque()
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Receiver | None = None
        self._thread: threading.Thread | None = None
        self.listener: Listener | None = listener
        """Which listener to run (None: the compiled one where installed); after ``start``, which runs."""
        self.native_failure: str | None = None
        """Why the compiled listener, installed, did not start (the Python one runs instead)."""
        self.realtime = False
        self.exec_opens = False
        self.ended = False
        """The listener process ended by itself: no more events will come."""
        self.kernel_drops = 0
        self.queue_drops = 0
        self.received = 0

    def start(self) -> None:
        requested = self.listener
        try:
            first = self._launch(requested)
        except _NotStarted as error:
            if requested is not None:  # this listener was asked for: no other
                raise ConnectorUnavailable(str(error)) from error
            # The compiled listener is there but cannot run here (a wheel built against a newer C
            # library, a noexec mount…): the Python one does the same job.
            log.warning("the native process listener did not start (%s): running the Python one", error)
            self.native_failure = str(error)
            try:
                first = self._launch("python")
            except _NotStarted as python_error:
                raise ConnectorUnavailable(str(python_error)) from python_error
        if isinstance(first, Failed):
            self.stop()
            raise ConnectorUnavailable(first.errno, first.reason)
        self.realtime = isinstance(first, Started) and first.realtime
        self.exec_opens = isinstance(first, Started) and first.exec_opens
        self._thread = threading.Thread(target=self._read, name="proc-connector-reader", daemon=True)
        self._thread.start()

    def _launch(self, listener: Listener | None) -> object:
        """Starts a listener (``_command``'s choice) and returns its first message; raises
        :class:`_NotStarted` when it could not be run or ended before saying anything."""
        fanotify_fd = _open_fanotify()
        ours, theirs = socket.socketpair()
        try:
            with ours, theirs:
                # The listener must never block on a full channel while processes wait to be read.
                _enlarge(theirs, socket.SO_SNDBUF, _CHANNEL_BUFFER_BYTES)
                _enlarge(ours, socket.SO_RCVBUF, _CHANNEL_BUFFER_BYTES)
                arguments = [theirs.fileno(), *self._arguments, fanotify_fd]
                self.listener, command = _command(listener, [str(value) for value in arguments])
                try:
                    self._process = subprocess.Popen(
                        command,
                        pass_fds=(theirs.fileno(),) if fanotify_fd < 0 else (theirs.fileno(), fanotify_fd),
                        stdin=subprocess.DEVNULL,
                    )
                except OSError as error:
                    raise _NotStarted(f"{command[0]}: {error}") from error
                self._channel = Receiver(socket.socket(fileno=ours.detach()))
        finally:
            if fanotify_fd >= 0:  # the listener has its own copy: the group lives as long as it does
                os.close(fanotify_fd)
        if not self._channel.poll(_START_TIMEOUT_S):
            self.stop()
            raise ConnectorUnavailable("the listener process did not start in time")
        try:
            return loads(self._channel.recv_bytes())
        except (EOFError, OSError) as error:
            status = self._process.wait(timeout=5)
            self.stop()
            raise _NotStarted(f"the {self.listener} listener ended at start (status {status})") from error

    @property
    def exit_status(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def drain(self) -> list[Seen]:
        items = []
        while self._items:
            items.append(self._items.popleft())
        return items

    def _read(self) -> None:
        channel = self._channel
        assert channel is not None
        while True:
            try:
                message = loads(channel.recv_bytes())
            except (EOFError, OSError):
                self.ended = True
                self._on_ready()
                return
            if isinstance(message, KernelDrops):
                self.kernel_drops += message.count
                continue
            for seen in cast(list[Seen], message):  # the listener sends nothing else
                self.received += 1
                if len(self._items) >= self._queue_size:
                    self.queue_drops += 1
                else:
                    self._items.append(seen)
            self._on_ready()


def wake_loop(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> Callable[[], object]:
    """An ``on_ready`` that sets ``event`` on ``loop`` from the reader thread."""
    return lambda: loop.call_soon_threadsafe(event.set)
