"""Building an incident from alerts and folding later alerts into it. Pure: no store, no clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collector.incidents import grouping
from collector.incidents.actor import SYSTEM_ACTOR_NAME
from collector.incidents.lifecycle import Status
from collector.incidents.model import Grouping, HistoryEntry, Incident, Named, SystemRef
from collector.incidents.priority import LEVELS, SEVERITY_BY_LEVEL, Priority, assess, level_of_severity
from collector.store.matching import field
from collector.store.naming import parse_time


@dataclass(frozen=True, slots=True)
class Change:
    """What a fold changed, for the history and the audit log."""

    action: str
    from_value: str | None
    to_value: str | None
    reason: str


def alert_level(alert: Mapping[str, Any]) -> str:
    level = field(alert, "canhgac.alert.level")
    if isinstance(level, str) and level in SEVERITY_BY_LEVEL:
        return level
    return level_of_severity(int(field(alert, "event.severity") or 0))


def alert_priority(alert: Mapping[str, Any]) -> Priority:
    security_level = field(alert, "canhgac.system.security_level")
    return assess(alert_level(alert), security_level if isinstance(security_level, int) else None)


def _most_urgent(alerts: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], Priority]:
    ranked = [(alert_priority(alert), LEVELS.index(alert_level(alert)), alert) for alert in alerts]
    priority, _, alert = min(ranked, key=lambda item: (item[0].rank, -item[1]))
    return alert, priority


def new_incident(
    incident_id: str,
    key: grouping.GroupingKey,
    window: grouping.Window,
    alerts: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Incident:
    first = alerts[0]
    worst, priority = _most_urgent(alerts)
    times = [parse_time(alert["@timestamp"]) for alert in alerts]
    rule_name = str(field(first, "rule.name") or field(first, "rule.id"))
    host = Named(id=str(field(first, "host.id")), name=field(first, "host.name"))
    where = f"({key.text})" if key.correlated else f"on {host.name or host.id}"
    level = alert_level(worst)
    return Incident(
        id=incident_id,
        title=f"{rule_name} {where}",
        priority=priority.label,
        priority_rank=priority.rank,
        priority_reason=priority.reason,
        level=level,
        severity=SEVERITY_BY_LEVEL[level],
        organization=Named(id=str(field(first, "organization.id")), name=field(first, "organization.name")),
        host=host,
        rule=Named(id=str(field(first, "rule.id")), name=rule_name),
        system=SystemRef.model_validate(field(worst, "canhgac.system") or {}),
        grouping=Grouping(
            key=key.as_dict(),
            key_text=key.text,
            reason=grouping.reason(key, window),
            window_start=window.start,
            window_end=window.end,
            window_s=window.seconds,
        ),
        alert_ids=sorted({str(field(alert, "event.id")) for alert in alerts}),
        alert_count=len({field(alert, "event.id") for alert in alerts}),
        first_alert_at=min(times),
        last_alert_at=max(times),
        created=now,
        updated=now,
        history=[
            HistoryEntry(
                at=now,
                actor=SYSTEM_ACTOR_NAME,
                action="created",
                to_value=Status.NEW,
                reason=f"{priority.reason}; grouped: {grouping.reason(key, window)}",
            )
        ],
    )


def fold(incident: Incident, alerts: Sequence[Mapping[str, Any]], now: datetime) -> list[Change]:
    """Add the alerts the incident does not hold yet; raise its priority if one is more urgent; reopen it
    if it was resolved. Returns the changes (none when every alert was already in: a replay)."""
    known = set(incident.alert_ids)
    fresh = {
        str(field(alert, "event.id")): alert for alert in alerts if field(alert, "event.id") not in known
    }
    if not fresh:
        return []
    new_alerts = list(fresh.values())
    changes = [Change("alerts_added", None, ",".join(sorted(fresh)), f"{len(fresh)} new alert(s)")]
    incident.alert_ids = sorted(known | set(fresh))
    incident.alert_count = len(incident.alert_ids)
    times = [parse_time(alert["@timestamp"]) for alert in new_alerts]
    incident.first_alert_at = min([incident.first_alert_at, *times])
    incident.last_alert_at = max([incident.last_alert_at, *times])
    worst, priority = _most_urgent(new_alerts)
    if priority.rank < incident.priority_rank:
        changes.append(Change("priority_raised", incident.priority, priority.label, priority.reason))
        incident.priority, incident.priority_rank = priority.label, priority.rank
        incident.priority_reason = priority.reason
        incident.level = alert_level(worst)
        incident.severity = SEVERITY_BY_LEVEL[incident.level]
    if incident.status == Status.RESOLVED:
        changes.append(
            Change("reopened", Status.RESOLVED, Status.NEW, "a new alert arrived within the window")
        )
        incident.status = Status.NEW
        incident.resolved_at = None
        incident.time_to_resolve_s = None
        incident.reopen_count += 1
    incident.updated = now
    for change in changes:
        if change.action != "alerts_added":  # alert additions go to the audit log only: they can be many
            incident.history.append(
                HistoryEntry(
                    at=now,
                    actor=SYSTEM_ACTOR_NAME,
                    action=change.action,
                    from_value=change.from_value,
                    to_value=change.to_value,
                    reason=change.reason,
                )
            )
    return changes


def with_alert_fields(alert: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of an alert document with ``canhgac.alert.*`` fields changed."""
    document = dict(alert)
    canhgac = dict(document.get("canhgac") or {})
    canhgac["alert"] = {**(canhgac.get("alert") or {}), **changes}
    document["canhgac"] = canhgac
    return document
