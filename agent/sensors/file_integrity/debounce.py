"""Coalescing bursts of filesystem events into one look per path."""

from __future__ import annotations


class Debouncer:
    """Holds touched paths until they have been quiet for ``quiet_s``.

    A path written continuously is still released ``max_delay_s`` after its first touch, so a busy log
    file cannot hide its changes forever. Paths released together form one batch, which keeps the two
    ends of a rename together. Pure logic with an explicit clock; not thread-safe.
    """

    def __init__(self, quiet_s: float, max_delay_s: float) -> None:
        self._quiet_s = quiet_s
        self._max_delay_s = max(max_delay_s, quiet_s)
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._last)

    def touch(self, path: str, now: float) -> None:
        self._first.setdefault(path, now)
        self._last[path] = now

    def clear(self) -> None:
        self._first.clear()
        self._last.clear()

    def _deadline(self, path: str) -> float:
        return min(self._last[path] + self._quiet_s, self._first[path] + self._max_delay_s)

    def next_deadline(self) -> float | None:
        return min((self._deadline(path) for path in self._last), default=None)

    def due(self, now: float) -> set[str]:
        """Release every path whose deadline has passed; once any is due, paths touched at the same
        moment or earlier go too, so a pair of move events is never split."""
        ready = {path for path in self._last if self._deadline(path) <= now}
        if ready:
            latest = max(self._last[path] for path in ready)
            ready |= {path for path, last in self._last.items() if last <= latest}
        for path in ready:
            del self._first[path]
            del self._last[path]
        return ready
