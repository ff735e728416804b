"""Builders shared by the agent runtime's unit tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.publisher import Acknowledgement
from agent.sensors.base import Observation
from agent.spool import SpooledEvent
from event_contract import Dataset


def minimal_document(state_dir: Path, **sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "organization": {"id": "org-1", "name": "Org One"},
        "system": {"name": "Portal", "security_level": 4},
        "kafka": {"bootstrap": "127.0.0.1:1", "topic": "unit-test"},
        "state_dir": str(state_dir),
    }
    document.update(sections)
    return document


def login_observation(user: str = "alice", **overrides: Any) -> Observation:
    values: dict[str, Any] = {
        "dataset": Dataset.AUTHENTICATION,
        "category": ("authentication",),
        "type": ("start",),
        "action": "logged-in",
        "timestamp": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "fields": {"user": {"name": user}, "source": {"ip": "203.0.113.7"}},
        "outcome": "success",
        "message": f"Accepted password for {user}",
    }
    values.update(overrides)
    return Observation(**values)


class RecordingPublisher:
    """An in-memory :class:`agent.publisher.Publisher` for pure-logic tests.

    ``refuse_starts`` makes the next starts fail; ``fail_after`` makes the next publish acknowledge only
    that many events and report an error for the rest; ``failing`` makes every publish fail.
    ``delivered`` holds what was acknowledged.
    """

    def __init__(self, refuse_starts: int = 0) -> None:
        self.refuse_starts = refuse_starts
        self.fail_after: int | None = None
        self.failing = False
        self.started = False
        self.starts = 0
        self.delivered: list[SpooledEvent] = []

    async def start(self) -> None:
        self.starts += 1
        if self.refuse_starts:
            self.refuse_starts -= 1
            raise ConnectionError("broker unreachable")
        self.started = True

    async def publish(self, batch: Sequence[SpooledEvent]) -> Acknowledgement:
        assert self.started, "publish before start"
        if self.failing:
            return Acknowledgement(0, TimeoutError("request timed out"))
        if self.fail_after is not None:
            count, self.fail_after = self.fail_after, None
            self.delivered.extend(batch[:count])
            return Acknowledgement(count, TimeoutError("request timed out"))
        self.delivered.extend(batch)
        return Acknowledgement(len(batch))

    async def stop(self) -> None:
        self.started = False


async def eventually(condition: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Wait until ``condition()`` holds (components under test expose state, not events, to wait on)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {limit_s} s")
        await asyncio.sleep(0.005)
