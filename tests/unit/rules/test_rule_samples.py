"""Every project rule against its samples, through the real engine and correlation tracker.

``rules/samples/<area>/<name>.yml`` sits beside ``rules/sigma/<area>/<name>.yml``. A detection rule's
sample lists ``positive`` and ``negative`` events; a correlation rule's lists ``sequences`` of events, each
with ``expect: match`` or ``expect: none``. A rule without samples fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.detection import CompiledRule, DetectionEngine
from collector.detection.correlation import CorrelationSet, CorrelationTracker, compile_correlations
from collector.detection.correlation.fields import PipelineFieldResolver
from tests.unit.rules.sample_events import build_event, sequence_events

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "rules" / "sigma"
SAMPLES = REPO / "rules" / "samples"
PIPELINE = REPO / "rules" / "pipelines" / "linux-ecs.yml"
ATTACK_TAG = re.compile(r"^attack\.(t\d{4}(\.\d{3})?|[a-z_-]+)$")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
LEVELS = {"informational", "low", "medium", "high", "critical"}


def rule_files() -> list[Path]:
    return sorted(RULES.rglob("*.yml"))


def rule_document(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path}: one rule per file"
    return document


def samples_for(rule_path: Path) -> dict[str, Any]:
    sample_path = SAMPLES / rule_path.relative_to(RULES)
    where = sample_path.relative_to(REPO)
    assert sample_path.is_file(), f"{rule_path.relative_to(REPO)} has no samples at {where}"
    samples = yaml.safe_load(sample_path.read_text(encoding="utf-8"))
    assert isinstance(samples, dict), f"{sample_path}: a mapping with positive/negative or sequences"
    return samples


@pytest.fixture(scope="module")
def engine() -> DetectionEngine:
    loaded = DetectionEngine.from_paths([RULES], pipeline=PIPELINE)
    assert loaded.errors == []
    return loaded


@pytest.fixture(scope="module")
def correlations(engine: DetectionEngine) -> CorrelationSet:
    resolver = PipelineFieldResolver.from_path(PIPELINE)
    compiled, errors = compile_correlations(engine.correlation_rules, resolver)
    assert errors == []
    return compiled


def ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(RULES)) for path in paths]


def detection_paths() -> list[Path]:
    return [path for path in rule_files() if "correlation" not in rule_document(path)]


def correlation_paths() -> list[Path]:
    return [path for path in rule_files() if "correlation" in rule_document(path)]


def matched_rule_ids(engine: DetectionEngine, event: dict[str, Any]) -> set[str]:
    return {match.rule.id for match in engine.match(event)}


@pytest.mark.parametrize("path", detection_paths(), ids=ids(detection_paths()))
def test_detection_rule_matches_its_positives_and_not_its_negatives(
    engine: DetectionEngine, path: Path
) -> None:
    rule_id = rule_document(path)["id"]
    samples = samples_for(path)
    assert samples.get("positive"), f"{path.name}: at least one positive sample"
    assert samples.get("negative"), f"{path.name}: at least one negative sample"
    for sample in samples["positive"]:
        assert rule_id in matched_rule_ids(engine, build_event(sample)), f"positive missed: {sample}"
    for sample in samples["negative"]:
        assert rule_id not in matched_rule_ids(engine, build_event(sample)), f"negative matched: {sample}"


def correlation_matches(
    engine: DetectionEngine, correlations: CorrelationSet, steps: list[dict[str, Any]]
) -> Iterator[str]:
    """Ids of correlations that fire, fed the way the collector feeds them (by rule id and by name)."""
    tracker = CorrelationTracker(correlations)
    for timed in sequence_events(steps):
        for match in engine.match(timed.event):
            rule: CompiledRule = match.rule
            for identifier in [rule.id] + ([rule.name] if rule.name else []):
                for found in tracker.observe(identifier, timed.event, timed.when):
                    yield found.correlation.id


@pytest.mark.parametrize("path", correlation_paths(), ids=ids(correlation_paths()))
def test_correlation_rule_fires_on_its_matching_sequences_only(
    engine: DetectionEngine, correlations: CorrelationSet, path: Path
) -> None:
    rule_id = rule_document(path)["id"]
    sequences = samples_for(path).get("sequences") or []
    expectations = {sequence["expect"] for sequence in sequences}
    assert expectations == {"match", "none"}, f"{path.name}: sequences that match and sequences that must not"
    for sequence in sequences:
        fired = set(correlation_matches(engine, correlations, sequence["events"]))
        if sequence["expect"] == "match":
            assert rule_id in fired, f"{path.name}: did not fire on: {sequence['description']}"
        else:
            assert rule_id not in fired, f"{path.name}: fired on: {sequence['description']}"


def test_every_sample_file_belongs_to_a_rule() -> None:
    orphans = [p for p in SAMPLES.rglob("*.yml") if not (RULES / p.relative_to(SAMPLES)).is_file()]
    assert orphans == []


def test_rule_ids_are_unique_uuids() -> None:
    seen: dict[str, Path] = {}
    for path in rule_files():
        rule_id = str(rule_document(path)["id"])
        assert UUID4.fullmatch(rule_id), path
        assert rule_id not in seen, f"{path} reuses the id of {seen.get(rule_id)}"
        seen[rule_id] = path


@pytest.mark.parametrize("path", rule_files(), ids=ids(rule_files()))
def test_rule_carries_what_a_responder_needs(path: Path) -> None:
    rule = rule_document(path)
    assert rule.get("author") == "Canh Gác"
    assert rule.get("status") in {"experimental", "test", "stable"}
    assert rule.get("date")
    assert rule.get("level") in LEVELS
    assert len(str(rule.get("description", ""))) >= 80, "a description a responder can act on"
    falsepositives = rule.get("falsepositives")
    assert isinstance(falsepositives, list)
    assert falsepositives
    attack_tags = [tag for tag in rule.get("tags", []) if str(tag).startswith("attack.")]
    assert any(re.match(r"^attack\.t\d{4}", tag) for tag in attack_tags), "an ATT&CK technique tag"
    assert all(ATTACK_TAG.match(tag) for tag in attack_tags), attack_tags
    assert path.parent.parent == RULES, "rules live in rules/sigma/<area>/"
