"""The agent inventory, kept from heartbeats, and the alert for an agent that went silent.

``on_heartbeats`` keeps one document per agent in ``<prefix>agents``; an older heartbeat (a replay, or one
delayed in the agent's spool) never moves ``last_seen`` backwards. ``check_silent_agents`` raises one alert
per silence (id from agent id + the last heartbeat before it) and hands it to the incidents service;
running it again while the agent stays silent changes nothing. A check cut short between the two (the
collector killed, Elasticsearch down) is finished by the next one, even if the agent spoke meanwhile.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from collector.incidents.alert_document import alert_document
from collector.incidents.service import MAX_ATTEMPTS, Clock, IncidentService, utc_now
from collector.store import AlertFilter, AlreadyExists, Store, VersionConflict, Versioned
from collector.store.matching import field
from collector.store.naming import parse_time
from event_contract import HeartbeatEvent, event_from_dict

SILENT_RULE_ID = "canhgac-agent-silent"
SILENT_RULE_NAME = "Agent stopped sending heartbeats"
SILENT_LEVEL = "high"
DEFAULT_SILENCE_MULTIPLE = 3.0
INVENTORY_LIMIT = 10_000
# Silence alerts looked at, newest first, for one left without its incident by an interrupted check.
RELINK_LIMIT = 200


def agent_document(heartbeat: HeartbeatEvent) -> dict[str, Any]:
    health = heartbeat.canhgac.health
    return {
        "agent": heartbeat.agent.model_dump(mode="json", exclude_none=True),
        "host": heartbeat.host.model_dump(mode="json", exclude_none=True),
        "organization": heartbeat.organization.model_dump(mode="json"),
        "system": heartbeat.canhgac.system.model_dump(mode="json", exclude_none=True),
        "last_seen": heartbeat.timestamp.isoformat(),
        "interval_s": health.interval_s if health else None,
        "status": "online",
        "health": {name: sensor.model_dump(mode="json") for name, sensor in health.sensors.items()}
        if health
        else {},
        "spool": health.spool.model_dump(mode="json") if health else None,
        "silence": None,
    }


class AgentInventory:
    def __init__(
        self,
        store: Store,
        incidents: IncidentService,
        *,
        silence_multiple: float = DEFAULT_SILENCE_MULTIPLE,
        default_interval_s: float = 60.0,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._incidents = incidents
        self._multiple = silence_multiple
        self._default_interval_s = default_interval_s
        self._clock = clock

    async def on_heartbeats(self, events: Sequence[HeartbeatEvent | Mapping[str, Any]]) -> None:
        latest: dict[str, HeartbeatEvent] = {}
        for event in events:
            heartbeat = event if isinstance(event, HeartbeatEvent) else event_from_dict(dict(event))
            if not isinstance(heartbeat, HeartbeatEvent):
                raise ValueError(f"not a heartbeat: event.dataset {heartbeat.event.dataset}")
            known = latest.get(heartbeat.agent.id)
            if known is None or heartbeat.timestamp > known.timestamp:
                latest[heartbeat.agent.id] = heartbeat
        for heartbeat in latest.values():
            await self._record(heartbeat)

    async def _record(self, heartbeat: HeartbeatEvent) -> None:
        document = agent_document(heartbeat)
        for _ in range(MAX_ATTEMPTS):
            current = await self._store.get_agent(heartbeat.agent.id)
            if current is not None and parse_time(current.source["last_seen"]) >= heartbeat.timestamp:
                return
            try:
                await self._store.put_agent(current, document)
                return
            except (AlreadyExists, VersionConflict):
                continue

    async def check_silent_agents(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Alert (and open an incident) for each agent silent longer than ``silence_multiple`` of its
        heartbeat interval. Returns the alerts raised by this call."""
        moment = now or self._clock()
        await self._open_missing_incidents()
        raised = []
        for agent in await self._store.list_agents(None, INVENTORY_LIMIT):
            if agent.source.get("status") == "silent":
                continue
            interval = float(agent.source.get("interval_s") or self._default_interval_s)
            last_seen = parse_time(agent.source["last_seen"])
            if moment - last_seen <= timedelta(seconds=interval * self._multiple):
                continue
            alert = silence_alert(agent.source, last_seen, moment, interval * self._multiple)
            with contextlib.suppress(AlreadyExists):  # an earlier check stopped before marking the agent
                await self._store.create_alert(alert)
            await self._incidents.on_alerts([alert])
            if await self._mark_silent(agent, alert):
                raised.append(alert)
        return raised

    async def _open_missing_incidents(self) -> None:
        """Silence alerts created by a check that stopped before their incident was opened. The loop
        below would redo such a check only while the agent stays silent; a heartbeat since then would
        leave the alert without incident for good. (An alert gets ``incident_id`` once linked.)"""
        recent = await self._store.search_alerts(AlertFilter(rule=SILENT_RULE_ID), RELINK_LIMIT)
        unlinked = [
            dict(alert.source)
            for alert in recent.items
            if field(alert.source, "canhgac.alert.incident_id") is None
        ]
        if unlinked:
            await self._incidents.on_alerts(unlinked)

    async def _mark_silent(self, agent: Versioned, alert: Mapping[str, Any]) -> bool:
        marked = {
            **agent.source,
            "status": "silent",
            "silence": {"since": agent.source["last_seen"], "alert_id": alert["event"]["id"]},
        }
        try:
            await self._store.put_agent(agent, marked)
        except VersionConflict:
            return False  # a heartbeat arrived meanwhile: the agent is not silent after all
        return True


def silence_alert(
    agent: Mapping[str, Any], last_seen: datetime, now: datetime, allowed_s: float
) -> dict[str, Any]:
    """One alert per silence: its id and ``@timestamp`` come from the agent and its last heartbeat."""
    agent_id = str(agent["agent"]["id"])
    alert_id = hashlib.sha256(f"{SILENT_RULE_ID}|{agent_id}|{last_seen.isoformat()}".encode()).hexdigest()
    host = agent.get("host") or {}
    silent_for = int((now - last_seen).total_seconds())
    return alert_document(
        alert_id=alert_id,
        timestamp=last_seen,
        created=now,
        rule={
            "id": SILENT_RULE_ID,
            "name": SILENT_RULE_NAME,
            "description": "The agent sent no heartbeat for longer than the allowed multiple of its "
            "interval: it may have stopped, lost its network, or been tampered with.",
        },
        level=SILENT_LEVEL,
        summary=f"no heartbeat from {host.get('name', agent_id)} for {silent_for} s "
        f"(allowed {allowed_s:.0f} s)",
        host=host,
        organization=agent.get("organization") or {},
        system=agent.get("system"),
        agent_id=agent_id,
    )
