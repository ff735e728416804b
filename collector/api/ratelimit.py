"""A token bucket per client address, spent only by failed authentications: a guesser is slowed down,
everyone else (other addresses, and valid tokens from the same one) is not."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_TRACKED_CLIENTS = 10_000


class FailureLimiter:
    def __init__(self, burst: int, refill_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if burst < 1 or refill_per_s <= 0:
            raise ValueError("burst must be >= 1 and refill_per_s > 0")
        self._burst = float(burst)
        self._refill = refill_per_s
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _level(self, client: str) -> float:
        tokens, stamp = self._buckets.get(client, (self._burst, self._clock()))
        return min(self._burst, tokens + (self._clock() - stamp) * self._refill)

    def blocked(self, client: str) -> bool:
        """Whether ``client`` has used up its allowance of failures."""
        return client in self._buckets and self._level(client) < 1.0

    def record_failure(self, client: str) -> None:
        self._buckets[client] = (max(0.0, self._level(client) - 1.0), self._clock())
        self._buckets.move_to_end(client)
        while len(self._buckets) > MAX_TRACKED_CLIENTS:
            self._buckets.popitem(last=False)  # the least recently failing client forgets first
