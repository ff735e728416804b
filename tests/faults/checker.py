"""The checker: reads Kafka and Elasticsearch after (or during) a fault run and proves the guarantees.

- every event an agent spooled, and every valid message on the topic, is indexed exactly once (by
  ``event.id``; per agent the indexed sequence numbers are 1..N with no gap and no duplicate);
- every event of an enrolled agent is marked verified by the collector's origin check;
- every expected alert (derived from the sent events by the rules' own predicates, the built-in origin and
  sequence rules included) exists exactly once, and nothing else was alerted;
- incidents: one per grouping key and window, every alert in exactly one of them;
- committed offsets never ran ahead of indexed data (see :func:`check_committed`);
- every malformed message is in the dead-letter topic with a reason;
- no process died on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from event_contract import DecodeError, decode_event_document
from event_contract.topics import DEAD_LETTER_REASON_HEADER, DEAD_LETTER_SOURCE_HEADER
from tests.faults.readback import (
    Record,
    committed_offsets,
    documents,
    dotted,
    end_offsets,
    read_records,
)
from tests.faults.rules import KnownRule
from tests.support.es import EsAccess
from tests.support.kafka import KafkaAccess


@dataclass(frozen=True)
class Target:
    """Where one fault run's data lives."""

    kafka: KafkaAccess
    es: EsAccess
    events_topic: str
    dead_letter_topic: str
    group_id: str
    index_prefix: str
    collector_kafka: KafkaAccess | None = None
    """The collectors' own principal (ACLs on this run's topics only); None: they use ``kafka``."""


@dataclass(frozen=True)
class AgentTally:
    agent_id: str
    spooled: int
    spool_depth: int


@dataclass
class OffsetCheck:
    """Committed offsets against what is indexed, at one moment."""

    records_below_commit: int = 0
    committed_beyond_end: int = 0
    committed_but_missing: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    events_sent: int = 0
    events_on_topic: int = 0
    topic_redeliveries: int = 0
    events_indexed: int = 0
    event_duplicates: int = 0
    events_lost: int = 0
    events_unexpected: int = 0
    events_unverified: int = 0
    """Events of the enrolled agents that the collector did not mark ``canhgac.origin.status: verified``."""
    sequence_gaps: int = 0
    sequence_duplicates: int = 0
    spool_left: int = 0
    alerts_expected: int = 0
    alerts_found: int = 0
    alert_duplicates: int = 0
    alerts_missing: int = 0
    alerts_unexpected: int = 0
    other_alerts: int = 0
    dead_letters_expected: int = 0
    dead_letters_found: int = 0
    dead_letter_replays: int = 0
    dead_letters_missing: int = 0
    dead_letters_without_reason: int = 0
    incidents: int = 0
    incident_duplicates: int = 0
    alerts_without_incident: int = 0
    offset_checks: int = 0
    offsets_ahead_of_data: int = 0
    rule_files_refused: int = 0
    crashes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}

    def summary(self) -> str:
        lines = [
            "fault run verdict: " + ("OK" if self.ok else "FAILED"),
            f"  events    sent {self.events_sent}  on topic {self.events_on_topic}"
            f" (+{self.topic_redeliveries} redelivered)  indexed {self.events_indexed}"
            f"  duplicates {self.event_duplicates}  lost {self.events_lost}"
            f"  unexpected {self.events_unexpected}  unverified {self.events_unverified}",
            f"  sequences gaps {self.sequence_gaps}  duplicates {self.sequence_duplicates}"
            f"  left in spools {self.spool_left}",
            f"  alerts    expected {self.alerts_expected}  found {self.alerts_found}"
            f"  duplicates {self.alert_duplicates}  missing {self.alerts_missing}"
            f"  unexpected {self.alerts_unexpected}  (collector's own: {self.other_alerts})",
            f"  dead letters expected {self.dead_letters_expected}  found {self.dead_letters_found}"
            f" (+{self.dead_letter_replays} replayed)  missing {self.dead_letters_missing}"
            f"  without reason {self.dead_letters_without_reason}",
            f"  incidents {self.incidents}  duplicated {self.incident_duplicates}"
            f"  alerts without incident {self.alerts_without_incident}",
            f"  offsets   checks {self.offset_checks}  committed ahead of data {self.offsets_ahead_of_data}",
            f"  crashes   {len(self.crashes)}  hostile rule files refused {self.rule_files_refused}",
        ]
        lines += [f"  ! {problem}" for problem in self.problems[:20]]
        return "\n".join(lines)


def _source(record: Record) -> str:
    return f"{record.partition}/{record.offset}"


def _valid_document(value: bytes) -> dict[str, Any] | None:
    try:
        document, _ = decode_event_document(value)
    except (DecodeError, ValueError):
        return None
    return document


async def check_committed(target: Target) -> OffsetCheck:
    """Nothing committed but missing: every record below the group's committed offset is indexed (a valid
    event) or dead-lettered (the rest). Offsets are read first, so anything written later only helps."""
    committed = await committed_offsets(target.kafka, target.group_id, target.events_topic)
    ends = await end_offsets(target.kafka, target.events_topic)
    check = OffsetCheck()
    check.committed_beyond_end = sum(1 for p, offset in committed.items() if offset > ends.get(p, 0))
    records = await read_records(
        target.kafka, target.events_topic, until=committed | {p: 0 for p in ends if p not in committed}
    )
    indexed = {doc["_id"] for doc in await documents(target.es, f"{target.index_prefix}events-*", [])}
    letters = await read_records(target.kafka, target.dead_letter_topic)
    lettered = {_dead_letter_source(letter) for letter in letters}
    check.records_below_commit = len(records)
    for record in records:
        document = _valid_document(record.value)
        if document is None:
            if f"{target.events_topic}/{_source(record)}" not in lettered:
                check.committed_but_missing.append(f"dead letter for {_source(record)}")
        elif str(dotted(document, "event.id")) not in indexed:
            check.committed_but_missing.append(f"event {dotted(document, 'event.id')} at {_source(record)}")
    return check


def _dead_letter_source(letter: Record) -> str:
    return letter.headers.get(DEAD_LETTER_SOURCE_HEADER, b"").decode(errors="replace")


async def check_run(
    target: Target,
    agents: Sequence[AgentTally],
    rules: Sequence[KnownRule],
    offset_checks: Sequence[OffsetCheck] = (),
    crashes: Sequence[str] = (),
) -> Verdict:
    verdict = Verdict(crashes=list(crashes))
    records = await read_records(target.kafka, target.events_topic)
    sent: dict[str, dict[str, Any]] = {}
    malformed: set[str] = set()
    for record in records:
        document = _valid_document(record.value)
        if document is None:
            malformed.add(f"{target.events_topic}/{_source(record)}")
        elif str(dotted(document, "event.id")) in sent:
            verdict.topic_redeliveries += 1
        else:
            sent[str(dotted(document, "event.id"))] = document
    verdict.events_on_topic = len(sent)
    agent_ids = {tally.agent_id for tally in agents}
    from_agents = sum(1 for doc in sent.values() if dotted(doc, "agent.id") in agent_ids)
    verdict.events_sent = sum(tally.spooled for tally in agents) + len(sent) - from_agents
    verdict.spool_left = sum(tally.spool_depth for tally in agents)

    indexed = await documents(
        target.es,
        f"{target.index_prefix}events-*",
        ["event.id", "event.sequence", "agent.id", "canhgac.origin.status"],
    )
    _check_events(verdict, sent, indexed, agents)
    alerts = await documents(
        target.es,
        f"{target.index_prefix}alerts-*",
        ["rule.id", "canhgac.alert.event_ids", "canhgac.alert.incident_id", "event.id"],
    )
    _check_alerts(verdict, sent, alerts, rules)
    incidents = await documents(
        target.es,
        f"{target.index_prefix}incidents",
        ["grouping.key_text", "grouping.window_start", "alert_ids"],
    )
    _check_incidents(verdict, alerts, incidents)
    letters = await read_records(target.kafka, target.dead_letter_topic)
    _check_dead_letters(verdict, malformed, letters)

    final = await check_committed(target)
    for check in [*offset_checks, final]:
        verdict.offset_checks += 1
        verdict.offsets_ahead_of_data += check.committed_beyond_end + len(check.committed_but_missing)
        verdict.problems += [f"committed but missing: {item}" for item in check.committed_but_missing[:5]]
    verdict.problems += [f"crash: {crash}" for crash in crashes]
    _judge(verdict)
    return verdict


def _check_events(
    verdict: Verdict,
    sent: Mapping[str, Mapping[str, Any]],
    indexed: Sequence[dict[str, Any]],
    agents: Sequence[AgentTally],
) -> None:
    ids = Counter(str(doc.get("event", {}).get("id")) for doc in indexed)
    verdict.events_indexed = len(ids)
    verdict.event_duplicates = sum(count - 1 for count in ids.values())
    verdict.events_lost = sum(1 for event_id in sent if event_id not in ids)
    verdict.events_unexpected = sum(1 for event_id in ids if event_id not in sent)
    verdict.problems += [f"lost event {event_id}" for event_id in list(set(sent) - set(ids))[:5]]
    enrolled = {tally.agent_id for tally in agents}
    unverified = [
        doc
        for doc in indexed
        if dotted(doc, "agent.id") in enrolled and dotted(doc, "canhgac.origin.status") != "verified"
    ]
    verdict.events_unverified = len(unverified)
    verdict.problems += [f"enrolled agent's event not verified: {doc}" for doc in unverified[:3]]
    for tally in agents:
        numbers = Counter(
            int(doc["event"]["sequence"])
            for doc in indexed
            if dotted(doc, "agent.id") == tally.agent_id and dotted(doc, "event.sequence") is not None
        )
        gaps = [n for n in range(1, tally.spooled + 1) if n not in numbers]
        beyond = [n for n in numbers if n > tally.spooled]
        verdict.sequence_gaps += len(gaps) + len(beyond)
        verdict.sequence_duplicates += sum(count - 1 for count in numbers.values())
        if gaps:
            verdict.problems.append(f"agent {tally.agent_id}: sequences missing, first {gaps[:5]}")
        if beyond:
            verdict.problems.append(
                f"agent {tally.agent_id}: sequences above the spool's counter {beyond[:5]}"
            )


def _check_alerts(
    verdict: Verdict,
    sent: Mapping[str, Mapping[str, Any]],
    alerts: Sequence[dict[str, Any]],
    rules: Sequence[KnownRule],
) -> None:
    expected = {(rule.id, event_id) for event_id, doc in sent.items() for rule in rules if rule.matches(doc)}
    known = {rule.id for rule in rules}
    # The collector's own alerts (an agent silent during an outage) are not derived from one event.
    verdict.other_alerts = sum(1 for alert in alerts if dotted(alert, "rule.id") not in known)
    found = Counter(
        (str(dotted(alert, "rule.id")), str((dotted(alert, "canhgac.alert.event_ids") or [None])[0]))
        for alert in alerts
        if dotted(alert, "rule.id") in known
    )
    verdict.alerts_expected = len(expected)
    verdict.alerts_found = sum(found.values())
    verdict.alert_duplicates = sum(count - 1 for count in found.values())
    verdict.alerts_missing = len(expected - set(found))
    verdict.alerts_unexpected = len(set(found) - expected)
    verdict.problems += [f"missing alert {pair}" for pair in list(expected - set(found))[:5]]
    verdict.problems += [f"unexpected alert {pair}" for pair in list(set(found) - expected)[:5]]


def _check_incidents(
    verdict: Verdict, alerts: Sequence[dict[str, Any]], incidents: Sequence[dict[str, Any]]
) -> None:
    keys = Counter(
        (str(dotted(doc, "grouping.key_text")), str(dotted(doc, "grouping.window_start")))
        for doc in incidents
    )
    verdict.incidents = len(incidents)
    verdict.incident_duplicates = sum(count - 1 for count in keys.values())
    membership = Counter(alert_id for doc in incidents for alert_id in doc.get("alert_ids") or [])
    incident_ids = {doc["_id"] for doc in incidents}
    for alert in alerts:
        alert_id = str(dotted(alert, "event.id") or alert["_id"])
        if membership[alert_id] != 1 or dotted(alert, "canhgac.alert.incident_id") not in incident_ids:
            verdict.alerts_without_incident += 1
    verdict.incident_duplicates += sum(count - 1 for count in membership.values())


def _check_dead_letters(verdict: Verdict, malformed: set[str], letters: Sequence[Record]) -> None:
    sources = Counter(_dead_letter_source(letter) for letter in letters)
    verdict.dead_letters_expected = len(malformed)
    verdict.dead_letters_found = len(set(sources) & malformed)
    verdict.dead_letter_replays = sum(count - 1 for count in sources.values())
    verdict.dead_letters_missing = len(malformed - set(sources))
    verdict.dead_letters_without_reason = sum(
        1 for letter in letters if not letter.headers.get(DEAD_LETTER_REASON_HEADER, b"").strip()
    )
    verdict.problems += [f"no dead letter for {source}" for source in sorted(malformed - set(sources))[:5]]


def _judge(verdict: Verdict) -> None:
    failures = {
        "events lost": verdict.events_lost,
        "events duplicated": verdict.event_duplicates,
        "events indexed that nobody sent": verdict.events_unexpected,
        "enrolled agents' events not verified": verdict.events_unverified,
        "sequence gaps": verdict.sequence_gaps,
        "sequence duplicates": verdict.sequence_duplicates,
        "events left in agent spools": verdict.spool_left,
        "alerts missing": verdict.alerts_missing,
        "alerts duplicated": verdict.alert_duplicates,
        "alerts unexpected": verdict.alerts_unexpected,
        "dead letters missing": verdict.dead_letters_missing,
        "dead letters without reason": verdict.dead_letters_without_reason,
        "incidents duplicated": verdict.incident_duplicates,
        "alerts without exactly one incident": verdict.alerts_without_incident,
        "offsets committed ahead of data": verdict.offsets_ahead_of_data,
    }
    verdict.problems = [f"{what}: {count}" for what, count in failures.items() if count] + verdict.problems
