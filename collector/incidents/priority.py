"""Severity and priority policy, stated once.

``SEVERITY_BY_LEVEL`` maps a Sigma rule level to ECS ``event.severity`` (the values Elastic's "External
Alerts" rule reads as low/medium/high/critical). ``PRIORITY_TABLE`` combines the rule level with the
security level (1-5) of the information system the host belongs to: the same finding matters more on a
level-5 system than on a level-1 one. P1 is the most urgent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SEVERITY_BY_LEVEL: Final[dict[str, int]] = {
    "informational": 0,
    "low": 21,
    "medium": 47,
    "high": 73,
    "critical": 99,
}

LEVELS: Final[tuple[str, ...]] = tuple(SEVERITY_BY_LEVEL)
"""Rule levels from least to most severe."""

#                                security level:  1     2     3     4     5
PRIORITY_TABLE: Final[dict[str, tuple[str, str, str, str, str]]] = {
    "critical": ("P2", "P2", "P1", "P1", "P1"),
    "high": ("P3", "P3", "P2", "P1", "P1"),
    "medium": ("P4", "P4", "P3", "P3", "P2"),
    "low": ("P4", "P4", "P4", "P3", "P3"),
    "informational": ("P4", "P4", "P4", "P4", "P4"),
}

PRIORITY_RANK: Final[dict[str, int]] = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
"""Lower is more urgent; for sorting and for "raise only" comparisons."""

DEFAULT_SECURITY_LEVEL: Final[int] = 3
"""Assumed when an alert does not say which system its host belongs to; the reason says so."""


@dataclass(frozen=True, slots=True)
class Priority:
    label: str
    reason: str

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self.label]


def level_of_severity(severity: int) -> str:
    """The rule level whose severity is the highest not above ``severity``."""
    chosen = LEVELS[0]
    for level in LEVELS:
        if SEVERITY_BY_LEVEL[level] <= severity:
            chosen = level
    return chosen


def assess(level: str, security_level: int | None) -> Priority:
    """The priority of a finding at ``level`` on a system of ``security_level``, with the reason in words."""
    if level not in PRIORITY_TABLE:
        raise ValueError(f"unknown rule level {level!r}; expected one of {', '.join(LEVELS)}")
    assumed = security_level is None
    system_level = DEFAULT_SECURITY_LEVEL if security_level is None else security_level
    if not 1 <= system_level <= 5:
        raise ValueError(f"security level must be 1-5, got {system_level}")
    label = PRIORITY_TABLE[level][system_level - 1]
    system = (
        f"security level unknown (assumed {DEFAULT_SECURITY_LEVEL})"
        if assumed
        else f"a security-level-{system_level} system"
    )
    return Priority(label, f"rule level {level} on {system} gives {label}")
