"""Acknowledging alerts: ``canhgac.alert.status`` open → acknowledged, with who, when and why.

The write is conditional on the version read (``if_seq_no`` on the alert's monthly index). When it loses,
the alert is read again: if someone else acknowledged it meanwhile the caller gets :class:`StateConflict`
with the current alert; if the other writer only linked it to an incident, the acknowledgement is retried.
Exactly one of any number of concurrent acknowledgements succeeds and writes one audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from collector.incidents.actor import Actor
from collector.incidents.assembly import with_alert_fields
from collector.incidents.audit import audit_entry
from collector.incidents.errors import StateConflict, UnknownObject
from collector.store import Store, VersionConflict, Versioned
from collector.store.matching import field

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
MAX_ATTEMPTS = 20


class AlertAcknowledger:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def visible(self, alert_id: str, actor: Actor) -> Versioned:
        current = await self._store.get_alert(alert_id)
        if current is None or not actor.sees(field(current.source, "organization.id")):
            raise UnknownObject(f"no alert {alert_id}")
        return current

    async def acknowledge(self, alert_id: str, actor: Actor, reason: str) -> Mapping[str, Any]:
        current = await self.visible(alert_id, actor)
        for _ in range(MAX_ATTEMPTS):
            status = field(current.source, "canhgac.alert.status") or OPEN
            if status != OPEN:
                who = field(current.source, "canhgac.alert.acknowledged.by")
                raise StateConflict(f"alert is already {status} (by {who})", current.source)
            now = self._clock()
            updated = with_alert_fields(
                current.source,
                status=ACKNOWLEDGED,
                acknowledged={"by": actor.name, "at": now.isoformat(), "reason": reason},
            )
            try:
                await self._store.replace_alert(current, updated)
            except VersionConflict:
                current = await self.visible(alert_id, actor)
                continue
            await self._store.append_audit(
                audit_entry(
                    actor=actor,
                    action="alert.acknowledged",
                    object_type="alert",
                    object_id=alert_id,
                    agency=field(updated, "organization.id"),
                    at=now,
                    from_value=OPEN,
                    to_value=ACKNOWLEDGED,
                    reason=reason,
                )
            )
            return updated
        raise StateConflict("the alert is changing too fast to acknowledge; try again", current.source)
