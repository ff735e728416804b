"""Index mappings follow the contract: every field an agent sends is mapped, with ECS types."""

from __future__ import annotations

from typing import Any

from collector.sinks.elasticsearch import index_name, index_templates
from collector.sinks.mappings import alerts_mapping, events_mapping
from tests.support.events import process_exec, ssh_failure


def leaf_paths(document: dict[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in document.items():
        if isinstance(value, dict):
            paths |= leaf_paths(value, f"{prefix}{key}.")
        else:
            paths.add(prefix + key)
    return paths


def mapped(mapping: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = {"properties": mapping["properties"]}
    for part in path.split("."):
        if node is None or "properties" not in node:
            return node if node and node.get("enabled") is False else None
        node = node["properties"].get(part)
    return node


def test_every_field_of_sample_events_is_mapped() -> None:
    mapping = events_mapping()
    for event in (process_exec("/bin/sh", "sh -c id"), ssh_failure("root", "192.0.2.4")):
        for path in leaf_paths(event):
            assert mapped(mapping, path) is not None, path


def test_ecs_types_where_they_matter() -> None:
    mapping = alerts_mapping()
    assert mapped(mapping, "@timestamp") == {"type": "date"}
    assert mapped(mapping, "source.ip")["type"] == "ip"  # type: ignore[index]
    assert mapped(mapping, "event.severity") == {"type": "long"}
    assert mapped(mapping, "process.command_line")["type"] == "keyword"  # type: ignore[index]
    assert mapped(mapping, "message")["type"] == "text"  # type: ignore[index]
    assert mapped(mapping, "rule.name")["type"] == "keyword"  # type: ignore[index]
    assert mapped(mapping, "canhgac.system.security_level") == {"type": "long"}
    assert mapping["dynamic"] is False


def test_templates_cover_monthly_indices() -> None:
    from datetime import UTC, datetime

    templates = index_templates("canhgac-")
    assert templates["canhgac-alerts"]["index_patterns"] == ["canhgac-alerts-*"]
    assert index_name("canhgac-", "events", datetime(2026, 1, 31, 23, tzinfo=UTC)) == "canhgac-events-2026.01"
