"""The incident lifecycle: which status may follow which, and the timings it records.

    new ──► acknowledged ──► investigating ──► resolved
     │            │                │
     └────────────┴────────────────┴─────────► false_positive

A responder may reopen a resolved or false-positive incident (to ``investigating``). The incidents service
itself reopens a resolved incident to ``new`` when a new alert arrives on its key within its window.
Any other change is refused with a message naming the allowed next statuses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"


ALLOWED: Final[dict[Status, frozenset[Status]]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.FALSE_POSITIVE}),
    Status.ACKNOWLEDGED: frozenset({Status.INVESTIGATING, Status.FALSE_POSITIVE}),
    Status.INVESTIGATING: frozenset({Status.RESOLVED, Status.FALSE_POSITIVE}),
    Status.RESOLVED: frozenset({Status.INVESTIGATING}),
    Status.FALSE_POSITIVE: frozenset({Status.INVESTIGATING}),
}

CLOSED: Final[frozenset[Status]] = frozenset({Status.RESOLVED, Status.FALSE_POSITIVE})


class TransitionRefused(Exception):
    """The requested status cannot follow the current one."""


def check_transition(current: Status, wanted: Status) -> None:
    if wanted in ALLOWED[current]:
        return
    allowed = ", ".join(sorted(ALLOWED[current])) or "none"
    if wanted == current:
        raise TransitionRefused(f"incident is already {current}; allowed next: {allowed}")
    raise TransitionRefused(f"incident is {current}; it cannot become {wanted}; allowed next: {allowed}")
