"""The process that listens to the proc connector and snapshots /proc on every exec.

It runs apart from the agent (started by :func:`agent.sensors.process.receiver.listener_command` as
``python -I -S``, so that it loads only the standard library and its own modules) for two reasons
measured on a loaded 2-core host: a ``/bin/true`` lives well under a millisecond, and (1) a thread of the
agent waits for the GIL while the event loop works, up to the 5 ms switch interval; (2) even alone it
is woken too late under CPU load unless it runs with a real-time priority. So this process does nothing
but recv, read /proc and send, at ``SCHED_FIFO`` when permitted; and as that is still not always
in time (a VM's vCPU may be descheduled), it also follows fanotify exec opens (:mod:`exec_opens`, on a
descriptor the agent opened: :mod:`fanotify`) to know the program of a process that is already gone.
Batches of ``Seen`` go to the agent as ``marshal`` data over a private socketpair inherited from it; it
exits when the agent goes away.

``agent/sensors/process/native`` is this listener compiled (Rust), ~8 MiB smaller: the receiver starts
it where ``pip install`` built it and this one otherwise. Both must send the same messages
(``tests/e2e/test_process_listeners.py``): a change here is made there too.
"""

from __future__ import annotations

import errno
import os
import select
import sys
from _socket import socket  # not the socket module: see agent.sensors.process.connector

from agent.sensors.process.channel import Sender
from agent.sensors.process.connector import open_connector, parse
from agent.sensors.process.exec_opens import ExecOpens
from agent.sensors.process.snapshotter import Failed, KernelDrops, Seen, Snapshotter, Started

_RECV_SIZE = 256 * 1024
_PARENT_CHECK_S = 0.5


def _raise_priority(priority: int) -> bool:
    if priority <= 0:
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError:
        return False
    return True


def _exec_opens(fanotify_fd: int) -> ExecOpens | None:
    # -1: the agent could not open fanotify (no CAP_SYS_ADMIN or no fanotify): /proc alone, and Started
    # says so.
    return ExecOpens(fanotify_fd) if fanotify_fd >= 0 else None


def _receive(sock: socket, snapshotter: Snapshotter, exec_opens: ExecOpens | None) -> tuple[list[Seen], int]:
    """Everything queued on the connector socket, and how many overflows (ENOBUFS) were met."""
    batch: list[Seen] = []
    overflows = 0
    while True:
        try:
            datagram = sock.recv(_RECV_SIZE)
        except BlockingIOError:
            return batch, overflows
        except OSError as error:
            if error.errno != errno.ENOBUFS:
                raise
            overflows += 1
            continue
        if exec_opens is not None:
            exec_opens.drain()
        batch.extend(seen for event in parse(datagram) if (seen := snapshotter.see(event)) is not None)


def serve(
    channel: Sender, buffer_bytes: int, priority: int, report_exits: bool, fanotify_fd: int = -1
) -> None:
    agent_pid = os.getppid()
    try:
        sock = open_connector(buffer_bytes)
    except OSError as error:
        channel.send(Failed(error.errno or 0, str(error)))
        return
    sock.setblocking(False)
    exec_opens = _exec_opens(fanotify_fd)
    channel.send(Started(realtime=_raise_priority(priority), exec_opens=exec_opens is not None))
    snapshotter = Snapshotter(report_exits, exec_opens)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if exec_opens is not None:
        poller.register(exec_opens.fileno(), select.POLLIN)
    while os.getppid() == agent_pid:
        if not poller.poll(_PARENT_CHECK_S * 1000):
            continue
        if exec_opens is not None:
            exec_opens.drain()
        batch, overflows = _receive(sock, snapshotter, exec_opens)
        try:
            if overflows:
                channel.send(KernelDrops(overflows))
            if batch:
                channel.send(batch)
        except OSError:
            return  # the agent closed its end


def main(argv: list[str]) -> int:
    fd, buffer_bytes, priority, report_exits, fanotify_fd = (int(value) for value in argv)
    channel = Sender(socket(fileno=fd))
    # Not contextlib.suppress: contextlib (with what it imports) would add ~0.5 MiB to this process.
    try:  # noqa: SIM105
        serve(channel, buffer_bytes, priority, bool(report_exits), fanotify_fd)
    except (KeyboardInterrupt, BrokenPipeError, ConnectionResetError, EOFError):
        pass
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
