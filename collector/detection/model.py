"""What a loaded rule and a match look like to the rest of the collector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from collector.detection.compiled import Matcher
from collector.detection.event_view import EventView
from collector.detection.requirements import Requirement


@dataclass(frozen=True, slots=True)
class LogSource:
    product: str | None = None
    category: str | None = None
    service: str | None = None

    def covers(self, other: LogSource) -> bool:
        """A rule's log source covers an event's when every attribute the rule names is equal."""
        return all(
            mine is None or mine == theirs
            for mine, theirs in (
                (self.product, other.product),
                (self.category, other.category),
                (self.service, other.service),
            )
        )


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A Sigma rule ready to match. ``id`` is the rule's UUID, or ``path:<file>#<n>`` when it has none.

    ``generates_alerts`` is False for a rule that a correlation rule uses without ``generate: true``:
    Sigma says its matches feed the correlation only and raise no alert of their own.
    """

    id: str
    name: str | None
    title: str
    description: str | None
    level: str | None
    status: str | None
    tags: list[str]
    references: list[str]
    author: str | None
    falsepositives: list[str]
    logsource: LogSource
    source_path: Path
    matcher: Matcher = field(repr=False)
    requirement: Requirement = field(repr=False)
    generates_alerts: bool = True

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Evaluate this rule alone (no routing, no pre-filter): for tests and backtests."""
        return self.matcher(EventView(event))


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule matched one event."""

    rule: CompiledRule
    event: Mapping[str, Any] = field(repr=False)


class Detector(Protocol):
    """What the consumer pipeline needs from detection: one decoded event in, its rule matches out.

    Lifecycle: built once (loading and compiling happen at construction), then ``match`` is called per
    event; to change rules, build another and swap the reference. Guarantees: ``match`` never mutates
    the event, never raises for a mapping whatever its values, and returns matches in rule load order.
    :class:`collector.detection.DetectionEngine` is the implementation; tests may pass a fake.
    """

    def match(self, event: Mapping[str, Any]) -> list[RuleMatch]: ...
