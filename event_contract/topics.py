"""Kafka topic names and keys: defined once here, used by the agent, the collector and the stack."""

from __future__ import annotations

EVENTS_TOPIC = "canhgac.events"
"""Every agent event. Keyed by host id so one host's events stay in order on one partition."""

DEAD_LETTER_TOPIC = "canhgac.events.dead-letter"
"""Messages the collector could not decode or validate: original bytes as the value, reason in headers."""

DEAD_LETTER_REASON_HEADER = "canhgac.reason"
DEAD_LETTER_SOURCE_HEADER = "canhgac.source"


def message_key(host_id: str) -> bytes:
    """The Kafka key of an event: its host id, so per-host order is kept by the partitioner."""
    if not host_id:
        raise ValueError("host id must not be empty")
    return host_id.encode("utf-8")


def dead_letter_headers(reason: str, topic: str, partition: int, offset: int) -> list[tuple[str, bytes]]:
    """Headers for a dead-letter record: why it was rejected and where it came from."""
    return [
        (DEAD_LETTER_REASON_HEADER, reason.encode("utf-8")[:4096]),
        (DEAD_LETTER_SOURCE_HEADER, f"{topic}/{partition}/{offset}".encode()),
    ]
