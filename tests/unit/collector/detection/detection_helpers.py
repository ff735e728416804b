"""Helpers for the detection engine tests: inline rules written to tmp_path, events built as the wire
contract serialises them (nested ECS dicts)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from collector.detection import DetectionEngine, RoutingTable

REPO_ROOT = Path(__file__).resolve().parents[4]
LINUX_ECS_PIPELINE = REPO_ROOT / "rules" / "pipelines" / "linux-ecs.yml"

PROCESS_LOGSOURCE = "product: linux\ncategory: process_creation"


def rule_text(
    detection: str, *, logsource: str = PROCESS_LOGSOURCE, title: str = "test rule", extra: str = ""
) -> str:
    """A complete Sigma rule; ``detection`` is the YAML body under ``detection:`` (dedented)."""
    body = textwrap.indent(textwrap.dedent(detection).strip("\n"), "  ")
    source = textwrap.indent(logsource, "  ")
    return f"title: {title}\nstatus: test\nlevel: high\n{extra}logsource:\n{source}\ndetection:\n{body}\n"


def engine_for(
    tmp_path: Path,
    *rules: str,
    pipeline: Path | None = None,
    routing: RoutingTable | None = None,
) -> DetectionEngine:
    """Write each rule to its own file under tmp_path/rules and load them."""
    directory = tmp_path / "rules"
    directory.mkdir(exist_ok=True)
    for number, text in enumerate(rules):
        (directory / f"rule_{number:03d}.yml").write_text(text, encoding="utf-8")
    if routing is None:
        return DetectionEngine.from_paths([directory], pipeline)
    return DetectionEngine.from_paths([directory], pipeline, routing=routing)


def engine_for_titled(tmp_path: Path, detections: dict[str, str]) -> DetectionEngine:
    """One process-creation rule per ``title: detection`` entry, every one of which must load."""
    engine = engine_for(tmp_path, *(rule_text(body, title=title) for title, body in detections.items()))
    assert engine.errors == []
    return engine


def process_event(**process: Any) -> dict[str, Any]:
    """A canhgac.process exec event; keyword arguments are process.* fields (nested dicts allowed)."""
    event: dict[str, Any] = {
        "@timestamp": "2026-11-22T10:00:00Z",
        "event": {"id": "evt-1", "dataset": "canhgac.process", "action": "exec", "kind": "event"},
        "host": {"id": "host-1", "name": "srv-1"},
        "process": {"pid": 4242, **process},
    }
    return event


def titles(engine: DetectionEngine, event: dict[str, Any]) -> list[str]:
    return [match.rule.title for match in engine.match(event)]


def matches(tmp_path: Path, detection: str, event: dict[str, Any], *, pipeline: Path | None = None) -> bool:
    """Does a single rule with ``detection`` match ``event``? Asserts that the rule loaded."""
    engine = engine_for(tmp_path, rule_text(detection), pipeline=pipeline)
    assert engine.errors == [], [str(error) for error in engine.errors]
    assert len(engine.rules) == 1
    return bool(engine.match(event))


def single_rule(tmp_path: Path, detection: str, **kwargs: Any) -> DetectionEngine:
    """An engine holding exactly one rule with ``detection``; fails the test if it did not load."""
    engine = engine_for(tmp_path, rule_text(detection, **kwargs))
    assert engine.errors == [], [str(error) for error in engine.errors]
    assert len(engine.rules) == 1
    return engine


def hit(engine: DetectionEngine, **process: Any) -> bool:
    return bool(engine.match(process_event(**process)))
