"""The incidents service: folds indexed alerts into incidents and applies responders' changes.

Guarantees:
- ``on_alerts`` is idempotent. The incident id comes from the grouping key and window, membership is by
  alert id, and audit entries for these system changes have deterministic ids written *before* the
  incident, so replaying a batch after a crash at any point converges to the same incidents and the same
  audit entries, never duplicates.
- Responders' changes are conditional writes on the version they read. When another writer got in first,
  the change is retried only if the fields it depends on are unchanged (the other writer merely added
  alerts or a comment); otherwise the caller gets :class:`StateConflict` with the current incident.
- Every change is written to the audit log; nothing here updates or deletes an audit entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from collector.incidents import grouping
from collector.incidents.actor import SYSTEM, Actor
from collector.incidents.assembly import Change, fold, new_incident, with_alert_fields
from collector.incidents.audit import audit_entry
from collector.incidents.errors import StateConflict, UnknownObject
from collector.incidents.lifecycle import CLOSED, Status, TransitionRefused, check_transition
from collector.incidents.model import Comment, HistoryEntry, Incident
from collector.store import AlreadyExists, Store, StoreUnavailable, VersionConflict, Versioned
from collector.store.matching import field
from collector.store.naming import parse_time

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Mutation = Callable[[Incident, datetime], list[HistoryEntry]]
DEFAULT_WINDOW = timedelta(hours=1)
MAX_ATTEMPTS = 20
"""Conditional writes lost this many times in a row mean something is badly wrong: give up loudly."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class IncidentService:
    def __init__(self, store: Store, *, window: timedelta = DEFAULT_WINDOW, clock: Clock = utc_now) -> None:
        self._store = store
        self._window = window
        self._clock = clock
        self.ungroupable = 0
        """Alerts left out of incidents because they lack a grouping field or a valid time."""

    # --- from the pipeline ---------------------------------------------------------------------------

    def incident_id_for(self, alert: Mapping[str, Any]) -> str | None:
        """The incident an alert will join, known before it is indexed (ids are deterministic), so the
        pipeline can write it into the alert and spare a read and a rewrite per alert; ``None`` when the
        alert cannot be grouped."""
        try:
            return grouping.incident_id(grouping.grouping_key(alert), grouping.window_of(alert, self._window))
        except (ValueError, TypeError):
            return None

    async def on_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Group freshly indexed alerts into incidents. Called before the batch's offsets are committed."""
        batches: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        keys: dict[str, tuple[grouping.GroupingKey, grouping.Window]] = {}
        for alert in alerts:
            try:
                key = grouping.grouping_key(alert)
                window = grouping.window_of(alert, self._window)
            except (ValueError, TypeError) as bad:
                # One alert that cannot be grouped must not hold back the batch: it stays indexed and
                # visible in the alert list; it just has no incident.
                self.ungroupable += 1
                log.error("alert %r not grouped into an incident: %s", field(alert, "event.id"), bad)
                continue
            incident_id = grouping.incident_id(key, window)
            batches[incident_id].append(alert)
            keys[incident_id] = (key, window)
        for incident_id, members in batches.items():
            key, window = keys[incident_id]
            await self._absorb(incident_id, key, window, members)
            await self._link_alerts(incident_id, members)

    async def _absorb(
        self,
        incident_id: str,
        key: grouping.GroupingKey,
        window: grouping.Window,
        alerts: Sequence[Mapping[str, Any]],
    ) -> None:
        for _ in range(MAX_ATTEMPTS):
            now = self._clock()
            current = await self._store.get_incident(incident_id)
            if current is None:
                incident = new_incident(incident_id, key, window, alerts, now)
                created = Change("created", None, Status.NEW, incident.grouping.reason)
                await self._audit_system(incident, [created], ",".join(incident.alert_ids), now)
                try:
                    await self._store.create_incident(incident.document())
                    return
                except AlreadyExists:
                    continue
            incident = Incident.model_validate(current.source)
            changes = fold(incident, alerts, now)
            if not changes:
                return
            await self._audit_system(incident, changes, changes[0].to_value or "", now)
            try:
                await self._store.replace_incident(current, incident.document())
                return
            except VersionConflict:
                continue
        # Retriable: the pipeline backs off and replays the batch, which is idempotent.
        raise StoreUnavailable(f"incident {incident_id}: {MAX_ATTEMPTS} conflicting writes in a row")

    async def _audit_system(
        self, incident: Incident, changes: list[Change], alert_ids: str, at: datetime
    ) -> None:
        digest = hashlib.sha256(alert_ids.encode()).hexdigest()
        for change in changes:
            entry = audit_entry(
                actor=SYSTEM,
                action=f"incident.{change.action}",
                object_type="incident",
                object_id=incident.id,
                agency=incident.organization.id,
                at=at,
                from_value=change.from_value,
                to_value=change.to_value,
                reason=change.reason,
                replay_key=f"{incident.id}|{change.action}|{digest}",
            )
            with contextlib.suppress(AlreadyExists):  # written by an earlier attempt at this batch
                await self._store.append_audit(entry)

    async def _link_alerts(self, incident_id: str, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Record the incident on each alert (``canhgac.alert.incident_id``) so alert views can link back."""
        for alert in alerts:
            if field(alert, "canhgac.alert.incident_id") == incident_id:
                continue  # indexed with it already
            alert_id = str(field(alert, "event.id"))
            for _ in range(MAX_ATTEMPTS):
                current = await self._store.get_alert(alert_id, hint=parse_time(alert["@timestamp"]))
                if current is None or field(current.source, "canhgac.alert.incident_id") == incident_id:
                    break
                updated = with_alert_fields(current.source, incident_id=incident_id)
                try:
                    await self._store.replace_alert(current, updated)
                    break
                except VersionConflict:
                    continue

    # --- from responders -----------------------------------------------------------------------------

    async def get(self, incident_id: str, actor: Actor) -> Incident:
        return Incident.model_validate((await self._visible(incident_id, actor)).source)

    async def change_status(
        self,
        incident_id: str,
        wanted: Status,
        actor: Actor,
        reason: str | None,
        expected: Status | None = None,
    ) -> Incident:
        """``expected`` is the status the caller last saw: if the incident has moved on since, the change is
        refused with the current state instead of being applied to a state the caller never saw."""

        def mutate(incident: Incident, now: datetime) -> list[HistoryEntry]:
            if expected is not None and incident.status != expected:
                moved = f"incident is {incident.status}, not {expected} as expected; review it and try again"
                raise StateConflict(moved, incident.document())
            try:
                check_transition(incident.status, wanted)
            except TransitionRefused as refused:
                raise StateConflict(str(refused), incident.document()) from None
            before = incident.status
            incident.status = wanted
            _stamp(incident, wanted, now)
            return [
                HistoryEntry(
                    at=now,
                    actor=actor.name,
                    action="status_changed",
                    from_value=before,
                    to_value=wanted,
                    reason=reason,
                )
            ]

        return await self._act(incident_id, actor, mutate, guard=("status",))

    async def assign(
        self, incident_id: str, assignee: str | None, actor: Actor, reason: str | None
    ) -> Incident:
        def mutate(incident: Incident, now: datetime) -> list[HistoryEntry]:
            if incident.assignee == assignee:
                raise StateConflict(
                    f"incident is already assigned to {assignee or 'nobody'}", incident.document()
                )
            before, incident.assignee = incident.assignee, assignee
            return [
                HistoryEntry(
                    at=now,
                    actor=actor.name,
                    action="assigned",
                    from_value=before,
                    to_value=assignee,
                    reason=reason,
                )
            ]

        return await self._act(incident_id, actor, mutate, guard=("assignee",))

    async def comment(self, incident_id: str, text: str, actor: Actor) -> Incident:
        comment_id = str(uuid.uuid4())

        def mutate(incident: Incident, now: datetime) -> list[HistoryEntry]:
            incident.comments.append(Comment(id=comment_id, author=actor.name, at=now, text=text))
            return [
                HistoryEntry(at=now, actor=actor.name, action="commented", to_value=comment_id, reason=text)
            ]

        return await self._act(incident_id, actor, mutate, guard=())

    async def _visible(self, incident_id: str, actor: Actor) -> Versioned:
        current = await self._store.get_incident(incident_id)
        if current is None or not actor.sees(field(current.source, "organization.id")):
            raise UnknownObject(f"no incident {incident_id}")
        return current

    async def _act(
        self, incident_id: str, actor: Actor, mutate: Mutation, guard: tuple[str, ...]
    ) -> Incident:
        current = await self._visible(incident_id, actor)
        seen = {name: current.source.get(name) for name in guard}
        for _ in range(MAX_ATTEMPTS):
            now = self._clock()
            incident = Incident.model_validate(current.source)
            entries = mutate(incident, now)
            incident.history.extend(entries)
            incident.updated = now
            try:
                await self._store.replace_incident(current, incident.document())
            except VersionConflict:
                current = await self._visible(incident_id, actor)
                if any(current.source.get(name) != value for name, value in seen.items()):
                    raise StateConflict(
                        "the incident was changed by someone else meanwhile; review it and try again",
                        current.source,
                    ) from None
                continue
            for entry in entries:
                await self._store.append_audit(
                    audit_entry(
                        actor=actor,
                        action=f"incident.{entry.action}",
                        object_type="incident",
                        object_id=incident.id,
                        agency=incident.organization.id,
                        at=now,
                        from_value=entry.from_value,
                        to_value=entry.to_value,
                        reason=entry.reason,
                    )
                )
            return incident
        raise StateConflict("the incident is changing too fast to update; try again", current.source)


def _stamp(incident: Incident, status: Status, now: datetime) -> None:
    """Record when the incident reached a status; the first acknowledgement and resolution count."""
    if status == Status.ACKNOWLEDGED and incident.acknowledged_at is None:
        incident.acknowledged_at = now
        incident.time_to_acknowledge_s = (now - incident.created).total_seconds()
    elif status == Status.INVESTIGATING:
        incident.investigating_at = incident.investigating_at or now
        incident.resolved_at = None  # a reopened incident is no longer resolved
        incident.time_to_resolve_s = None
    elif status in CLOSED:
        incident.resolved_at = now
        incident.time_to_resolve_s = (now - incident.created).total_seconds()
