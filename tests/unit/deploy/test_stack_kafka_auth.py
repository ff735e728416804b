"""The stack's Kafka security uses the project's topic and group names (it cannot import them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import KafkaSettings
from deploy.stack import kafka_auth
from event_contract import DEAD_LETTER_TOPIC, EVENTS_TOPIC


def test_topic_and_group_names_match_the_project() -> None:
    settings = KafkaSettings()

    assert kafka_auth.EVENTS_TOPIC == EVENTS_TOPIC == settings.events_topic
    assert kafka_auth.DEAD_LETTER_TOPIC == DEAD_LETTER_TOPIC == settings.dead_letter_topic
    assert settings.correlation_topic == kafka_auth.CORRELATION_TOPIC
    assert settings.group_id.startswith(kafka_auth.COLLECTOR_GROUP_PREFIX)


def test_secure_listener_refuses_anonymous_access(tmp_path: Path) -> None:
    properties = kafka_auth.listener_properties(tmp_path, 9093, 9094)

    assert "listeners=SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094" in properties
    assert "allow.everyone.if.no.acl.found=false" in properties
    assert "super.users=User:admin\n" in properties
    assert "PLAINTEXT:" not in properties.replace("SASL_PLAINTEXT", "")
    # Generated once, then the same: clients configured from connection.json keep working.
    assert kafka_auth.listener_properties(tmp_path, 9093, 9094) == properties
    assert (tmp_path / "secrets").stat().st_mode & 0o077 == 0


def test_agent_names_are_checked() -> None:
    def never(main_class: str, arguments: list[str]) -> None:
        raise AssertionError("no tool should run for a bad name")

    for bad in ("", "a b", "../x", "x" * 65):
        with pytest.raises(ValueError, match="agent name"):
            kafka_auth.add_agent(never, Path("/nonexistent"), "127.0.0.1:1", bad, EVENTS_TOPIC)
