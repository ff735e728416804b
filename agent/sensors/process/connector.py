"""The kernel's process events connector (netlink ``NETLINK_CONNECTOR``, ``CN_IDX_PROC``).

Messages are ``nlmsghdr`` + ``cn_msg`` + ``proc_event`` (``include/uapi/linux/cn_proc.h``); the events
carry pids only, so everything else has to be read from /proc while the process still exists.
"""

from __future__ import annotations

import os
import struct

# The socket type itself, not the ``socket`` module, whose enums of every address family and socket
# option cost ~1.2 MiB of RSS in the listener process; the methods used here are the same.
from _socket import AF_NETLINK, SO_RCVBUF, SOCK_DGRAM, SOL_SOCKET, socket

from agent.sensors.process.record import Record

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
NLMSG_DONE = 3
SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; Python's socket module does not export it
PROC_EVENT_FORK = 0x00000001
PROC_EVENT_EXEC = 0x00000002
PROC_EVENT_EXIT = 0x80000000

_NLMSGHDR = struct.Struct("=IHHII")
_CN_MSG = struct.Struct("=IIIIHH")
_PROC_EVENT_HEADER = struct.Struct("=IIQ")
_EXEC = struct.Struct("=ii")
_EXIT = struct.Struct("=iiII")
_FORK = struct.Struct("=iiii")
_HEADER_SIZE = _NLMSGHDR.size + _CN_MSG.size


class ForkEvent(Record):
    """A new process (not thread): the only event that names a parent."""

    _fields = ("parent_pid", "pid")
    __slots__ = _fields
    parent_pid: int
    pid: int

    def __init__(self, parent_pid: int, pid: int) -> None:
        self._set(parent_pid, pid)


class ExecEvent(Record):
    _fields = ("pid",)
    __slots__ = _fields
    pid: int

    def __init__(self, pid: int) -> None:
        self._set(pid)


class ExitEvent(Record):
    _fields = ("pid", "exit_code")
    __slots__ = _fields
    pid: int
    exit_code: int | None
    """The shell's convention: the status passed to exit(), or 128 + the signal that killed it; None when
    unknown (seen by polling)."""

    def __init__(self, pid: int, exit_code: int | None) -> None:
        self._set(pid, exit_code)


ProcEvent = ForkEvent | ExecEvent | ExitEvent


def open_connector(buffer_bytes: int) -> socket:
    """A socket subscribed to process events. Raises ``OSError`` (e.g. ``EPERM`` without CAP_NET_ADMIN in
    the initial namespaces, ``EPROTONOSUPPORT`` without ``CONFIG_PROC_EVENTS``)."""
    sock = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_CONNECTOR)
    try:
        # SO_RCVBUFFORCE passes the rmem_max cap when privileged; plain SO_RCVBUF otherwise.
        try:
            sock.setsockopt(SOL_SOCKET, SO_RCVBUFFORCE, buffer_bytes)
        except OSError:
            sock.setsockopt(SOL_SOCKET, SO_RCVBUF, buffer_bytes)
        sock.bind((0, CN_IDX_PROC))
        payload = struct.pack("=I", PROC_CN_MCAST_LISTEN)
        cn_msg = _CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0)
        message = cn_msg + payload
        header = _NLMSGHDR.pack(_NLMSGHDR.size + len(message), NLMSG_DONE, 0, 0, os.getpid())
        sock.send(header + message)
    except BaseException:
        sock.close()
        raise
    return sock


def _exit_code(status: int) -> int:
    signal_number = status & 0x7F
    return (status >> 8) & 0xFF if signal_number == 0 else 128 + signal_number


def parse(datagram: bytes) -> list[ProcEvent]:
    """The fork, exec and exit events of one datagram (threads and other event kinds are skipped)."""
    events: list[ProcEvent] = []
    offset = 0
    while offset + _HEADER_SIZE + _PROC_EVENT_HEADER.size <= len(datagram):
        length = _NLMSGHDR.unpack_from(datagram, offset)[0]
        if length < _HEADER_SIZE:
            break
        base = offset + _HEADER_SIZE
        what = _PROC_EVENT_HEADER.unpack_from(datagram, base)[0]
        body = base + _PROC_EVENT_HEADER.size
        if what == PROC_EVENT_FORK and body + _FORK.size <= len(datagram):
            _parent_pid, parent_tgid, child_pid, child_tgid = _FORK.unpack_from(datagram, body)
            if child_pid == child_tgid:
                events.append(ForkEvent(parent_tgid, child_pid))
        elif what == PROC_EVENT_EXEC and body + _EXEC.size <= len(datagram):
            pid, _tgid = _EXEC.unpack_from(datagram, body)
            events.append(ExecEvent(pid))
        elif what == PROC_EVENT_EXIT and body + _EXIT.size <= len(datagram):
            pid, tgid, status, _signal = _EXIT.unpack_from(datagram, body)
            if pid == tgid:
                events.append(ExitEvent(pid, _exit_code(status)))
        offset += (length + 3) & ~3
    return events
