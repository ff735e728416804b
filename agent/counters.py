"""Counters every component bumps and the heartbeat reports: observed, spooled, delivered, errors."""

from __future__ import annotations

from collections import Counter


class Counters:
    """Named monotonic counts since the process started (``process.observed``, ``kafka.delivered``, …).

    Used from the event loop's thread only; reading gives a copy, so a report is consistent.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        self._counts[name] += amount

    def get(self, name: str) -> int:
        return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        return dict(sorted(self._counts.items()))
