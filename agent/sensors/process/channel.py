"""The listener's end of its channel to the agent: pickles framed as ``multiprocessing.connection`` does.

The agent reads with :class:`multiprocessing.connection.Connection` (``recv``/``poll``); the listener only
sends, and importing ``multiprocessing`` for that would add ~2 MiB of RSS to a process whose whole job is
to stay small and quick. The framing is Connection's: a 4-byte big-endian signed length, or -1 followed
by an 8-byte length for payloads of 2 GiB and more, then the pickle.
"""

from __future__ import annotations

import pickle
import socket
import struct

_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")
_SHORT_MAX = 0x7FFFFFFF


def frame(message: object) -> bytes:
    """``message`` as one frame that ``Connection.recv`` returns as an equal object."""
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    if len(payload) > _SHORT_MAX:
        return _SHORT.pack(-1) + _LONG.pack(len(payload)) + payload
    return _SHORT.pack(len(payload)) + payload


class Sender:
    """Sends messages over a blocking stream socket; raises ``OSError`` once the agent has gone."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, message: object) -> None:
        self._sock.sendall(frame(message))

    def close(self) -> None:
        self._sock.close()
