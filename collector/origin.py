"""The origin step, before detection: who really sent each event, and did its sequence hold.

Each decoded event is classified against the keyring (:mod:`collector.keyring`) from its Kafka headers:

* ``verified`` — signed by an enrolled key, and the claimed ``agent.id`` and ``host.name`` (and
  ``host.id`` if the entry lists host ids) are the ones that key was enrolled for;
* ``unsigned`` / ``unknown_key`` / ``bad_signature`` / ``identity_mismatch`` — the event is still indexed
  and detected on (it may be real), but carries the status in ``canhgac.origin`` and raises one alert.

Verified events then go through the :class:`~collector.sequence_tracker.SequenceTracker`. An agent's own
``canhgac.origin`` is always dropped: only the collector says where an event came from.

Modes: ``flag`` (the default when a keyring is configured) does all of the above; ``off`` only drops
claimed origins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from collector.integrity_alerts import (
    ORIGIN_BAD_SIGNATURE,
    ORIGIN_IDENTITY_MISMATCH,
    ORIGIN_UNKNOWN_KEY,
    ORIGIN_UNSIGNED,
    SEQUENCE_GAP,
    SEQUENCE_REPLAY,
    BuiltinRule,
    integrity_alert,
)
from collector.keyring import Keyring, load_keyring
from collector.sequence_tracker import Finding, Observed, SequenceTracker
from collector.sinks import Document
from event_contract.signing import KEY_ID_HEADER, SIGNATURE_HEADER, header_value, verify

log = logging.getLogger(__name__)

Mode = Literal["off", "flag"]
Status = Literal["verified", "unsigned", "unknown_key", "bad_signature", "identity_mismatch"]
RULE_BY_STATUS: dict[str, BuiltinRule] = {
    "unsigned": ORIGIN_UNSIGNED,
    "unknown_key": ORIGIN_UNKNOWN_KEY,
    "bad_signature": ORIGIN_BAD_SIGNATURE,
    "identity_mismatch": ORIGIN_IDENTITY_MISMATCH,
}


class Consumed(Protocol):
    """The parts of a consumed Kafka record this step reads (``collector.pipeline.Message``)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...


M = TypeVar("M", bound=Consumed)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    key_id: str | None = None
    reason: str | None = None

    def as_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": self.status}
        if self.key_id is not None:
            fields["key_id"] = self.key_id
        if self.reason is not None:
            fields["reason"] = self.reason
        return fields


def classify(
    keyring: Keyring, headers: Sequence[tuple[str, bytes | None]], value: bytes, event: Mapping[str, Any]
) -> Verdict:
    """Where the message really came from, judged by its signature headers and the keyring."""
    raw_kid = header_value(headers, KEY_ID_HEADER)
    signature = header_value(headers, SIGNATURE_HEADER)
    if raw_kid is None or signature is None:
        return Verdict("unsigned", reason="no signature headers")
    kid = raw_kid.decode("ascii", "replace")[:64]
    enrollment = keyring.get(kid)
    if enrollment is None:
        return Verdict("unknown_key", kid, f"key id {kid} is not in the keyring")
    if not verify(enrollment.key, value, signature):
        return Verdict("bad_signature", kid, f"signature does not verify under key {kid}")
    agent_id = _field(event, "agent", "id")
    host_name = _field(event, "host", "name")
    host_id = _field(event, "host", "id")
    if agent_id != enrollment.agent_id:
        return Verdict(
            "identity_mismatch", kid, f"claims agent.id {agent_id}; key {kid} is agent {enrollment.agent_id}"
        )
    if host_name not in enrollment.host_names:
        enrolled = ", ".join(sorted(enrollment.host_names))
        return Verdict("identity_mismatch", kid, f"claims host.name {host_name}; key {kid} is for {enrolled}")
    if enrollment.host_ids is not None and host_id not in enrollment.host_ids:
        return Verdict("identity_mismatch", kid, f"claims host.id {host_id}; not enrolled for key {kid}")
    return Verdict("verified", kid)


@dataclass
class OriginCheck:
    """The pipeline step. ``keyring_path`` is read at start and on :meth:`reload`."""

    mode: Mode
    keyring_path: Path | None
    tracker: SequenceTracker | None
    keyring: Keyring = field(default_factory=lambda: Keyring({}))
    flagged: int = 0
    sequence_findings: int = 0

    def __post_init__(self) -> None:
        if self.mode == "flag" and self.keyring_path is not None:
            self.keyring = load_keyring(self.keyring_path)
            log.info("keyring loaded: %d enrolled agents", len(self.keyring))

    def reload(self) -> None:
        """Re-read the keyring (SIGHUP); a keyring that does not load keeps the previous one."""
        if self.mode != "flag" or self.keyring_path is None:
            return
        self.keyring = load_keyring(self.keyring_path)
        log.info("keyring reloaded: %d enrolled agents", len(self.keyring))

    async def check(
        self, batch: Sequence[M], events: Sequence[tuple[dict[str, Any], M]], now: datetime
    ) -> list[tuple[Document, M]]:
        """Mark every event's ``canhgac.origin``; return the alerts with the message each is about."""
        alerts: list[tuple[Document, M]] = []
        verified: list[tuple[dict[str, Any], M]] = []
        keyring = self.keyring  # read once: a reload swaps it between batches
        for event, message in events:
            extra = event["canhgac"]
            extra.pop("origin", None)
            if self.mode == "off":
                continue
            verdict = classify(keyring, message.headers, message.value, event)
            extra["origin"] = verdict.as_fields()
            if verdict.status == "verified":
                verified.append((event, message))
                continue
            self.flagged += 1
            rule = RULE_BY_STATUS[verdict.status]
            alerts.append((integrity_alert(rule, event, verdict.reason or verdict.status, now), message))
        if self.tracker is not None and self.mode == "flag":
            alerts += await self._sequences(batch, verified, now)
        return alerts

    async def _sequences(
        self, batch: Sequence[M], verified: Sequence[tuple[dict[str, Any], M]], now: datetime
    ) -> list[tuple[Document, M]]:
        assert self.tracker is not None
        by_position: dict[tuple[str, int, int], tuple[dict[str, Any], M]] = {}
        observed = []
        for event, message in verified:
            item = Observed(
                str(event["agent"]["id"]),
                int(event["event"]["sequence"]),
                str(event["event"]["id"]),
                message.topic,
                message.partition,
                message.offset,
            )
            observed.append(item)
            by_position[(item.topic, item.partition, item.offset)] = (event, message)
        positions = [(m.topic, m.partition, m.offset) for m in batch]
        findings = await self.tracker.observe(positions, observed)
        self.sequence_findings += len(findings)
        alerts = []
        for finding in findings:
            seen = finding.observed
            event, message = by_position[(seen.topic, seen.partition, seen.offset)]
            alerts.append((_sequence_alert(finding, event, now), message))
        return alerts


def _sequence_alert(finding: Finding, event: Mapping[str, Any], now: datetime) -> Document:
    if finding.kind == "gap":
        count = finding.last - finding.first + 1
        span = str(finding.first) if count == 1 else f"{finding.first}-{finding.last}"
        detail = f"{count} events missing from agent {finding.observed.agent_id}: sequence {span}"
        extra = {"sequence": {"first": finding.first, "last": finding.last, "count": count}}
        return integrity_alert(SEQUENCE_GAP, event, detail, now, extra)
    detail = (
        f"agent {finding.observed.agent_id} reused sequence {finding.first} "
        f"(already held by event {', '.join(finding.previous_event_ids)})"
    )
    extra = {"sequence": {"first": finding.first, "last": finding.last, "count": 1}}
    return integrity_alert(SEQUENCE_REPLAY, event, detail, now, extra)


def _field(event: Mapping[str, Any], group: str, name: str) -> str | None:
    value = event.get(group)
    found = value.get(name) if isinstance(value, Mapping) else None
    return str(found) if found is not None else None
