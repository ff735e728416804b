"""Messages an attacker or a broken agent could put on the events topic.

Each one says whether the contract accepts it: a valid one must be indexed like any event (and may raise an
alert), an invalid one must reach the dead-letter topic with a reason. None may stop a collector.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson

from event_contract import DecodeError, decode_event
from tests.support.events import encoded, envelope, process_exec

OVERSIZED_BYTES = 1_200_000
"""Above the contract's 1 MB message limit; the fault run's topics accept messages up to 4 MB."""


@dataclass(frozen=True)
class HostileMessage:
    label: str
    key: bytes
    value: bytes

    @property
    def valid(self) -> bool:
        """What the contract says of the bytes; the checker expects the collector to agree."""
        try:
            decode_event(self.value)
        except (DecodeError, ValueError):
            return False
        return True


def _nested(depth: int) -> bytes:
    return b'{"event":' * depth + b"{}" + b"}" * depth


def _wrong_types() -> bytes:
    event = envelope("canhgac.authentication", ["authentication"], ["start"], action="logged-in")
    event["event"]["sequence"] = "seven"
    event["host"] = ["not", "an", "object"]
    return orjson.dumps(event)


def _negative_sequence() -> bytes:
    event = envelope("canhgac.authentication", ["authentication"], ["start"], action="logged-in")
    event["event"]["sequence"] = -1
    return orjson.dumps(event)


def hostile_messages(*, oversized: bool = True, round_: int = 0) -> list[HostileMessage]:
    """One of each kind; ``round_`` makes the valid ones unique events when the set is sent again."""
    host = f"hostile{round_}"
    long_tail = "a" * 200_000  # matches the `(a+)+$` rule; a backtracking engine would never finish on …b
    messages = [
        HostileMessage("garbage bytes", b"x", os.urandom(512)),
        HostileMessage("empty", b"x", b""),
        HostileMessage("not an object", b"x", b"[1, 2, 3]"),
        HostileMessage("deeply nested JSON", b"x", _nested(50_000)),
        HostileMessage("wrong types", b"x", _wrong_types()),
        HostileMessage("negative sequence", b"x", _negative_sequence()),
        HostileMessage("invalid UTF-8 in a string", b"x", b'{"event": {"id": "\xff\xfe"}}'),
        HostileMessage(
            "huge string ending in a run of a",
            host.encode(),
            encoded(process_exec("/bin/sh", "sh -c " + long_tail, host=host)),
        ),
        HostileMessage(
            "huge string defeating a backtracking regex",
            host.encode(),
            encoded(process_exec("/bin/sh", "sh -c " + long_tail + "b", host=host)),
        ),
    ]
    if oversized:
        huge = process_exec("/bin/sh", "sh -c " + "b" * OVERSIZED_BYTES, host=host)
        messages.append(HostileMessage("oversized (> 1 MB)", host.encode(), orjson.dumps(huge)))
    return messages
