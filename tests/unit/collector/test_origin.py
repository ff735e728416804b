"""Classifying an event's origin against the keyring, and the keyring file itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from collector.detection import DetectionEngine
from collector.integrity_alerts import ORIGIN_IDENTITY_MISMATCH, ORIGIN_UNSIGNED
from collector.keyring import KeyringError, load_keyring
from collector.origin import OriginCheck, classify
from event_contract.signing import encode_key, generate_key, key_id, signature_headers
from tests.support.events import envelope


@dataclass(frozen=True)
class Msg:
    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes | None]]


KEY, OTHER = generate_key(), generate_key()


def keyring_file(tmp_path: Path, **overrides: Any) -> Path:
    entries = [
        {"agent_id": "agent-web01", "host_names": ["web01"], "key_id": key_id(KEY), "key": encode_key(KEY)},
        {"agent_id": "agent-db01", "host_names": ["db01"], "key_id": key_id(OTHER), "key": encode_key(OTHER)},
    ]
    entries[0].update(overrides)
    path = tmp_path / "keyring.yaml"
    path.write_text(yaml.safe_dump({"agents": entries}), encoding="utf-8")
    return path


def signed(event: dict[str, Any], key: bytes = KEY) -> tuple[bytes, list[tuple[str, bytes | None]]]:
    value = orjson.dumps(event)
    return value, list(signature_headers(key, key_id(key), value))


def test_every_status(tmp_path: Path) -> None:
    keyring = load_keyring(keyring_file(tmp_path))
    event = envelope("canhgac.heartbeat", ["host"], ["info"], host="web01")
    value, headers = signed(event)
    assert classify(keyring, headers, value, event).status == "verified"
    assert classify(keyring, [], value, event).status == "unsigned"
    stranger = generate_key()
    assert classify(keyring, signature_headers(stranger, key_id(stranger), value), value, event).status == (
        "unknown_key"
    )
    tampered = value.replace(b"web01", b"web02")
    assert classify(keyring, headers, tampered, orjson.loads(tampered)).status == "bad_signature"
    # db01's real key signing an event that claims to be web01: the signature is fine, the claim is not.
    claim_value, claim_headers = signed(event, OTHER)
    verdict = classify(keyring, claim_headers, claim_value, event)
    assert verdict.status == "identity_mismatch"
    assert "agent.id agent-web01" in (verdict.reason or "")
    other_host = envelope("canhgac.heartbeat", ["host"], ["info"], host="db02")
    other_host["agent"]["id"] = "agent-db01"
    host_value, host_headers = signed(other_host, OTHER)
    verdict = classify(keyring, host_headers, host_value, other_host)
    assert verdict.status == "identity_mismatch"
    assert "host.name db02" in (verdict.reason or "")


def test_keyring_refuses_mistakes_naming_the_entry(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match=r"agents.0 .*key_id .* is not the id of this key"):
        load_keyring(keyring_file(tmp_path, key_id=key_id(OTHER)))
    with pytest.raises(KeyringError, match="exactly one of key and key_file"):
        load_keyring(keyring_file(tmp_path, key_file="k.hex"))
    with pytest.raises(KeyringError, match="64 hexadecimal digits"):
        load_keyring(keyring_file(tmp_path, key="abc"))
    with pytest.raises(KeyringError, match="host_names"):
        load_keyring(keyring_file(tmp_path, host_names=[]))
    (tmp_path / "k.hex").write_text(encode_key(KEY) + "\n")
    keyring = load_keyring(keyring_file(tmp_path, key=None, key_file="k.hex"))
    assert len(keyring) == 2
    assert encode_key(KEY) not in repr(keyring)


async def test_the_step_marks_events_alerts_once_and_drops_claimed_origins(tmp_path: Path) -> None:
    check = OriginCheck("flag", keyring_file(tmp_path), tracker=None)
    good = envelope("canhgac.heartbeat", ["host"], ["info"], host="web01")
    good["canhgac"]["origin"] = {"status": "bad_signature"}  # an agent cannot speak for the collector
    good_value, good_headers = signed(
        {**good, "canhgac": {k: v for k, v in good["canhgac"].items() if k != "origin"}}
    )
    bad = envelope("canhgac.heartbeat", ["host"], ["info"], host="web01")
    bad["canhgac"]["origin"] = {"status": "verified"}
    messages = [Msg("t", 0, 0, good_value, good_headers), Msg("t", 0, 1, orjson.dumps(bad), [])]
    events = [(good, messages[0]), (bad, messages[1])]
    alerts = await check.check(messages, events, datetime.now(UTC))

    assert good["canhgac"]["origin"] == {"status": "verified", "key_id": key_id(KEY)}
    assert bad["canhgac"]["origin"]["status"] == "unsigned"
    assert [(doc.body["rule"]["id"], msg.offset) for doc, msg in alerts] == [(ORIGIN_UNSIGNED.id, 1)]
    again = await check.check(messages, events, datetime.now(UTC))
    assert [doc.id for doc, _ in again] == [doc.id for doc, _ in alerts], (
        "a replayed batch, the same alert id"
    )
    assert ORIGIN_IDENTITY_MISMATCH.level == "critical"

    off = OriginCheck("off", None, tracker=None)
    bad["canhgac"]["origin"] = {"status": "verified"}
    assert await off.check(messages[1:], events[1:], datetime.now(UTC)) == []
    assert "origin" not in bad["canhgac"]


def test_settings_default_to_flag_with_a_keyring_and_refuse_flag_without(tmp_path: Path) -> None:
    from collector.config import ConfigError, load_settings

    path = tmp_path / "collector.yaml"
    path.write_text("origin: {keyring: /etc/canhgac/keyring.yaml}\n")
    assert load_settings(path, environ={}).origin.effective_mode == "flag"
    assert (
        load_settings(path, environ={"CANHGAC_COLLECTOR__ORIGIN__MODE": "off"}).origin.effective_mode == "off"
    )
    path.write_text("origin: {mode: flag}\n")
    with pytest.raises(ConfigError, match="mode flag needs a keyring"):
        load_settings(path, environ={})
    path.write_text("{}\n")
    assert load_settings(path, environ={}).origin.effective_mode == "off"


class Observer:
    def __init__(self) -> None:
        self.alerts: list[Any] = []
        self.heartbeats: list[Any] = []

    async def publish(self, items: Any) -> None:
        return None

    def incident_id_for(self, alert: Any) -> str | None:
        return "inc-" + str(alert["rule"]["id"])[:8]

    async def on_alerts(self, alerts: Any) -> None:
        self.alerts.extend(alerts)

    async def on_heartbeats(self, events: Any) -> None:
        self.heartbeats.extend(events)


async def test_in_the_pipeline_a_forged_heartbeat_alerts_and_does_not_keep_an_agent_alive(
    tmp_path: Path,
) -> None:
    from collector.pipeline import EventPipeline, Message
    from collector.sinks.memory import MemorySink

    sink, observer = MemorySink(), Observer()
    pipeline = EventPipeline(
        detector=lambda: DetectionEngine.from_paths([]),
        sink=sink,
        dead_letters=observer,
        correlations=None,
        alert_observer=observer,
        heartbeat_observer=observer,
        origin_check=OriginCheck("flag", keyring_file(tmp_path), tracker=None),
    )
    real = envelope("canhgac.heartbeat", ["host"], ["info"], host="web01")
    forged = envelope("canhgac.heartbeat", ["host"], ["info"], host="web01")
    real_value, real_headers = signed(real)
    batch = [
        Message("events", 0, 0, b"host-web01", real_value, real_headers),
        Message("events", 0, 1, b"host-web01", orjson.dumps(forged)),
    ]
    await pipeline.process(batch)

    assert [event["event"]["id"] for event in observer.heartbeats] == [real["event"]["id"]]
    (alert,) = sink.family("alerts").values()
    assert alert["rule"]["id"] == ORIGIN_UNSIGNED.id
    assert alert["canhgac"]["alert"]["event_ids"] == [forged["event"]["id"]]
    assert alert["canhgac"]["alert"]["incident_id"] == "inc-" + ORIGIN_UNSIGNED.id[:8]
    statuses = {
        doc["event"]["id"]: doc["canhgac"]["origin"]["status"] for doc in sink.family("events").values()
    }
    assert statuses == {real["event"]["id"]: "verified", forged["event"]["id"]: "unsigned"}
