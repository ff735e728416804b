"""Index names, derived from one configurable prefix so concurrent test runs never share an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_PREFIX = "canhgac-"


@dataclass(frozen=True, slots=True)
class IndexNames:
    """``<prefix>alerts-YYYY.MM`` and ``<prefix>audit-YYYY.MM`` are monthly and append-only; incidents,
    agents and tokens are single mutable indices."""

    prefix: str = DEFAULT_PREFIX

    @property
    def alerts_pattern(self) -> str:
        return f"{self.prefix}alerts-*"

    @property
    def audit_pattern(self) -> str:
        return f"{self.prefix}audit-*"

    @property
    def incidents(self) -> str:
        return f"{self.prefix}incidents"

    @property
    def agents(self) -> str:
        return f"{self.prefix}agents"

    @property
    def tokens(self) -> str:
        return f"{self.prefix}tokens"

    def alerts_index(self, when: datetime) -> str:
        return f"{self.prefix}alerts-{_month(when)}"

    def audit_index(self, when: datetime) -> str:
        return f"{self.prefix}audit-{_month(when)}"


def _month(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("index times must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y.%m")


def parse_time(value: object) -> datetime:
    """An ISO 8601 timestamp from a stored document, as an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO 8601 timestamp, got {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
