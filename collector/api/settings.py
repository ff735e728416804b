"""What the API is configured with."""

from __future__ import annotations

from dataclasses import dataclass

from collector.store.naming import DEFAULT_PREFIX


@dataclass(frozen=True, slots=True)
class ApiSettings:
    index_prefix: str = DEFAULT_PREFIX
    auth_failure_burst: int = 10
    """Failed authentications one client address may make before it is answered 429."""
    auth_failure_refill_per_s: float = 0.2
    """How fast that allowance comes back (one more failure every 5 s by default)."""
    readiness_timeout_s: float = 2.0
    max_page: int = 500
