"""The listener's channel to the agent: messages as ``marshal`` data in ``multiprocessing.connection``
frames.

The listener sends; the agent reads frames with :class:`Receiver` and :func:`loads` them. Importing
``multiprocessing`` would add ~2 MiB of RSS to the listener, a process whose whole job is to stay small
and quick, and ``pickle`` (with the ``re`` it imports) another ~1.2 MiB; ``marshal`` is built into the
interpreter. The agent read with :class:`multiprocessing.connection.Connection` until it too did
without: ``multiprocessing.connection`` kept ~1.1 MiB resident in the idle agent. ``marshal`` knows
only built-in types, so a :class:`~agent.sensors.process.record.Record` travels as a one-entry dict,
its class name to the tuple of its values; no message holds a dict of its own, and a record's fields
hold only scalars, tuples of scalars and records. The framing is Connection's: a 4-byte big-endian
signed length, or -1 followed by an 8-byte length for payloads of 2 GiB and more, then the payload.
"""

from __future__ import annotations

import marshal
import select
import struct
from _socket import socket  # not the socket module: see agent.sensors.process.connector

from agent.sensors.process.record import Record, record_class

_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")
_SHORT_MAX = 0x7FFFFFFF


def _encode(value: object) -> object:
    """A record's fields hold scalars, tuples of scalars or records: only records need translating."""
    if isinstance(value, Record):
        return {
            type(value).__name__: tuple(
                _encode(item) if isinstance(item, Record) else item for item in value._values()
            )
        }
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        raise TypeError("a listener message holds no dict: on the channel a dict is a record")
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict):
        ((name, values),) = value.items()
        return record_class(name)(*(_decode(item) if isinstance(item, dict) else item for item in values))
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def dumps(message: object) -> bytes:
    """``message`` (records, lists and tuples of them, built-in scalars) as channel bytes."""
    # _encode gives built-in types only; typing cannot say so without importing typing here.
    return marshal.dumps(_encode(message))  # type: ignore[arg-type]


def loads(data: bytes | bytearray) -> object:
    """The message ``dumps`` made ``data`` from: equal, with records of the same classes."""
    # From the agent's own child over a private socketpair; marshal, unlike pickle, runs no code on load.
    return _decode(marshal.loads(data))  # noqa: S302


def frame(message: object) -> bytes:
    """``message`` as one frame: ``Connection.recv_bytes`` returns what :func:`loads` reads."""
    payload = dumps(message)
    if len(payload) > _SHORT_MAX:
        return _SHORT.pack(-1) + _LONG.pack(len(payload)) + payload
    return _SHORT.pack(len(payload)) + payload


class Sender:
    """Sends messages over a blocking stream socket; raises ``OSError`` once the agent has gone."""

    def __init__(self, sock: socket) -> None:
        self._sock = sock

    def send(self, message: object) -> None:
        self._sock.sendall(frame(message))

    def close(self) -> None:
        self._sock.close()


class Receiver:
    """The agent's end of the channel, over a blocking stream socket: :meth:`recv_bytes` returns a
    frame's payload as ``Connection.recv_bytes`` did, and raises ``EOFError`` once the listener has
    closed its end (``OSError`` on a socket error)."""

    def __init__(self, sock: socket) -> None:
        self._sock = sock

    def poll(self, timeout_s: float) -> bool:
        """Whether a frame (or the end) can be read within ``timeout_s``."""
        return bool(select.select([self._sock], [], [], timeout_s)[0])

    def recv_bytes(self) -> bytearray:
        (size,) = _SHORT.unpack(self._exactly(_SHORT.size))
        if size == -1:
            (size,) = _LONG.unpack(self._exactly(_LONG.size))
        return self._exactly(size)

    def _exactly(self, size: int) -> bytearray:
        data = bytearray(size)
        view = memoryview(data)
        done = 0
        while done < size:
            received = self._sock.recv_into(view[done:])
            if received == 0:
                raise EOFError
            done += received
        return data

    def close(self) -> None:
        self._sock.close()
