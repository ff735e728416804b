"""Which incident an alert belongs to.

Alerts share an incident when they come from the same agency (``organization.id``), the same host and the
same rule, or, for correlation alerts, the same rule and correlation group, and their ``@timestamp`` falls in
the same window. Windows are aligned to the epoch, so the incident id depends only on the alert itself: a
replayed or reordered batch always lands in the same incident.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from collector.store.matching import field
from collector.store.naming import parse_time


@dataclass(frozen=True, slots=True)
class GroupingKey:
    fields: tuple[tuple[str, str], ...]
    correlated: bool

    @property
    def text(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.fields)

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def grouping_key(alert: Mapping[str, Any]) -> GroupingKey:
    """Agency + host + rule, or agency + rule + correlation group for a correlation alert (whose events may
    span hosts)."""
    agency = _required(alert, "organization.id")
    rule = _required(alert, "rule.id")
    group = field(alert, "canhgac.alert.correlation.group")
    if isinstance(group, Mapping) and group:
        pairs = [("organization.id", agency), ("rule.id", rule)]
        pairs += [(f"correlation.{name}", str(value)) for name, value in sorted(group.items())]
        return GroupingKey(tuple(pairs), correlated=True)
    host = _required(alert, "host.id")
    return GroupingKey((("organization.id", agency), ("host.id", host), ("rule.id", rule)), correlated=False)


def window_of(alert: Mapping[str, Any], length: timedelta) -> Window:
    when = parse_time(alert.get("@timestamp"))
    seconds = int(length.total_seconds())
    if seconds <= 0:
        raise ValueError("the grouping window must be at least one second")
    start_epoch = int(when.timestamp()) // seconds * seconds
    start = datetime.fromtimestamp(start_epoch, tz=UTC)
    return Window(start, start + timedelta(seconds=seconds))


def incident_id(key: GroupingKey, window: Window) -> str:
    """Deterministic: the same key and window always give the same id."""
    material = f"{key.text}|{window.start.isoformat()}|{window.seconds}".encode()
    return "inc-" + hashlib.sha256(material).hexdigest()[:24]


def reason(key: GroupingKey, window: Window) -> str:
    what = "rule and correlation group" if key.correlated else "agency, host and rule"
    return (
        f"alerts with the same {what} ({key.text}) between "
        f"{window.start.isoformat()} and {window.end.isoformat()}"
    )


def _required(alert: Mapping[str, Any], path: str) -> str:
    value = field(alert, path)
    if not isinstance(value, str) or not value:
        raise ValueError(f"alert {field(alert, 'event.id')!r} has no {path}")
    return value
