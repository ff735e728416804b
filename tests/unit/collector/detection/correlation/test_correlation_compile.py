from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.processing.pipeline import ProcessingPipeline

from collector.detection import DetectionEngine
from collector.detection.correlation import (
    CorrelationTracker,
    PipelineFieldResolver,
    compile_correlations,
)
from tests.unit.collector.detection.correlation.correlation_helpers import (
    BASE_RULES,
    FAILED_ID,
    at,
    auth_event,
    feed,
    load,
)

REPO = Path(__file__).resolve().parents[5]

WEB_FAILED_ID = "5d7f6d0e-1111-4c5e-9a0b-000000000003"
WEB_FAILED = f"""
title: Web login failed
id: {WEB_FAILED_ID}
name: web_failed_login
logsource: {{product: linux, service: nginx}}
detection:
  keywords: ['login failed']
  condition: keywords
"""

ALIASED = """
title: Failed logins over SSH and the web from one address
id: 9a1c0000-0000-4000-8000-00000000a11a
correlation:
  type: event_count
  rules: [ssh_failed_login, web_failed_login]
  group-by: [ip]
  aliases:
    ip:
      ssh_failed_login: source.ip
      web_failed_login: client.ip
  timespan: 60s
  condition: {gte: 4}
"""


def compile_yaml(text: str, pipeline: ProcessingPipeline | None = None) -> tuple[Any, list[Any]]:
    collection = SigmaCollection.from_yaml(text)
    rules = [rule for rule in collection.rules if isinstance(rule, SigmaCorrelationRule)]
    return compile_correlations(rules, PipelineFieldResolver(pipeline) if pipeline else None)


def test_aliases_put_different_fields_of_different_rules_into_one_group() -> None:
    tracker = CorrelationTracker(load(WEB_FAILED + "---\n" + ALIASED))
    web = [{"event": {"id": f"web-{s}"}, "client": {"ip": "203.0.113.7"}} for s in range(2)]

    matches = feed(tracker, FAILED_ID, [auth_event(0), auth_event(1)])
    for second, event in enumerate(web, start=2):
        matches += tracker.observe(WEB_FAILED_ID, event, at(second))

    assert len(matches) == 1
    assert matches[0].group == {"ip": "203.0.113.7"}
    assert set(matches[0].base_rule_ids) == {FAILED_ID, WEB_FAILED_ID}


def test_group_fields_resolve_through_the_pipeline_per_base_rule_log_source() -> None:
    pipeline = ProcessingPipeline.from_yaml(
        """
name: test
transformations:
  - id: process_fields
    type: field_name_mapping
    mapping: {User: process.user.name}
    rule_conditions: [{type: logsource, category: process_creation}]
  - id: auth_fields
    type: field_name_mapping
    mapping: {User: user.name}
    rule_conditions: [{type: logsource, service: sshd}]
"""
    )
    process_rule = """
title: Shell spawned
id: 5d7f6d0e-1111-4c5e-9a0b-000000000009
name: shell_spawned
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /bash}
  condition: sel
---
title: Login then shell
id: 9a1c0000-0000-4000-8000-00000000b0b0
correlation:
  type: temporal
  rules: [ssh_successful_login, shell_spawned]
  group-by: [User]
  timespan: 5m
"""
    compiled, errors = compile_yaml(BASE_RULES + "---\n" + process_rule, pipeline)
    correlation = compiled.by_id["9a1c0000-0000-4000-8000-00000000b0b0"]

    assert errors == []
    assert [feed.group_paths for feed in correlation.feeds] == [(("user.name",),), (("process.user.name",),)]
    assert correlation.group_by == ("User",)


def test_the_project_pipeline_maps_linux_process_fields() -> None:
    pipeline = ProcessingPipeline.from_yaml((REPO / "rules/pipelines/linux-ecs.yml").read_text())
    text = """
title: Shell spawned
id: 5d7f6d0e-1111-4c5e-9a0b-000000000009
name: shell_spawned
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /bash}
  condition: sel
---
title: Many shells under one parent
id: 9a1c0000-0000-4000-8000-00000000c0c0
correlation:
  type: value_count
  rules: shell_spawned
  group-by: [ParentImage, source.ip]
  timespan: 5m
  condition: {gte: 3, field: CommandLine}
"""
    compiled, errors = compile_yaml(text, pipeline)
    (feed_,) = compiled.by_id["9a1c0000-0000-4000-8000-00000000c0c0"].feeds

    assert errors == []
    assert feed_.group_paths == (("process.parent.executable",), ("source.ip",))
    assert feed_.value_paths == ("process.command_line",)


ONE_RULE = "  rules: ssh_failed_login\n  timespan: 1m"


@pytest.mark.parametrize(
    ("correlation", "reason"),
    [
        ("type: event_count\n  rules: ssh_failed_login\n  timespan: 1m\n  condition: {lt: 3}", "absence"),
        (
            "type: value_count\n  rules: ssh_failed_login\n  timespan: 1m\n  condition: {neq: 3, field: a}",
            "absence",
        ),
        (
            "type: event_count\n  rules: [ssh_failed_login]\n  group-by: [ip]\n  aliases:\n    ip:\n"
            "      ssh_successful_login: source.ip\n  timespan: 1m\n  condition: {gte: 3}",
            "alias 'ip' has no field for rule 'ssh_failed_login'",
        ),
        (
            "type: event_count\n  rules: inner_correlation\n  group-by: [user.name]\n  timespan: 1m\n"
            "  condition: {gte: 2}",
            "groups by ['user.name'], which 'inner_correlation' does not group by",
        ),
        (
            "type: value_sum\n  rules: inner_correlation\n  timespan: 1m\n  condition: {gte: 2, field: x}",
            "correlation 'inner_correlation', whose matches carry none",
        ),
    ],
)
def test_unsupported_rules_are_reported_and_the_others_still_compile(correlation: str, reason: str) -> None:
    text = (
        BASE_RULES
        + """---
title: Inner
id: 9a1c0000-0000-4000-8000-000000000001
name: inner_correlation
correlation: {type: event_count, rules: ssh_failed_login, timespan: 1m, condition: {gte: 2}}
---
title: Under test
id: 9a1c0000-0000-4000-8000-000000000002
correlation:
  """
        + correlation
    )

    compiled, errors = compile_yaml(text)

    assert [error.rule_id for error in errors] == ["9a1c0000-0000-4000-8000-000000000002"]
    assert reason in errors[0].reason
    assert list(compiled.by_id) == ["9a1c0000-0000-4000-8000-000000000001"]


def test_correlations_loaded_by_the_detection_engine_fire_on_its_matches(tmp_path: Path) -> None:
    correlation = """
title: SSH brute force
id: 9a1c0000-0000-4000-8000-00000000d0d0
correlation:
  type: event_count
  rules: ssh_failed_login
  group-by: [source.ip]
  timespan: 60s
  condition: {gte: 3}
"""
    (tmp_path / "rules.yml").write_text(BASE_RULES + "---\n" + correlation)
    pipeline_path = REPO / "rules/pipelines/linux-ecs.yml"
    engine = DetectionEngine.from_paths([tmp_path], pipeline=pipeline_path)
    resolver = PipelineFieldResolver.from_path(pipeline_path)
    compiled, errors = compile_correlations(engine.correlation_rules, resolver)
    tracker = CorrelationTracker(compiled)

    found = []
    for second in range(4):
        event = auth_event(second)
        moment = datetime.fromisoformat(event["@timestamp"]).astimezone(UTC)
        for match in engine.match(event):
            found += tracker.observe(match.rule.id, event, moment)

    assert errors == []
    assert [m.correlation.id for m in found] == ["9a1c0000-0000-4000-8000-00000000d0d0"]
    assert found[0].value == 3


def test_correlations_feeding_each_other_in_a_cycle_are_rejected() -> None:
    text = (
        BASE_RULES
        + """---
title: A
id: 9a1c0000-0000-4000-8000-0000000000aa
name: corr_a
correlation: {type: temporal, rules: [corr_b, ssh_failed_login], group-by: [source.ip], timespan: 1m}
---
title: B
id: 9a1c0000-0000-4000-8000-0000000000bb
name: corr_b
correlation: {type: temporal, rules: [corr_a, ssh_successful_login], group-by: [source.ip], timespan: 1m}
"""
    )

    compiled, errors = compile_yaml(text)

    assert len(compiled) == 0
    assert sorted(error.reason for error in errors) == [
        "forms a cycle through 'corr_a'",
        "forms a cycle through 'corr_b'",
    ]


def test_a_pipeline_that_rejects_a_base_rule_log_source_reports_only_that_correlation() -> None:
    pipeline = ProcessingPipeline.from_yaml(
        """
name: test
transformations:
  - id: no_process_rules
    type: rule_failure
    message: process rules are not supported here
    rule_conditions: [{type: logsource, category: process_creation}]
"""
    )
    text = (
        BASE_RULES
        + """---
title: Shell spawned
id: 5d7f6d0e-1111-4c5e-9a0b-000000000009
name: shell_spawned
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /bash}
  condition: sel
---
title: Shells
id: 9a1c0000-0000-4000-8000-000000000005
correlation: {type: event_count, rules: shell_spawned, group-by: [User], timespan: 1m, condition: {gte: 3}}
---
title: Failures
id: 9a1c0000-0000-4000-8000-000000000006
correlation: {type: event_count, rules: ssh_failed_login, group-by: [User], timespan: 1m, condition: {gte: 3}}
"""
    )

    compiled, errors = compile_yaml(text, pipeline)

    assert [error.rule_id for error in errors] == ["9a1c0000-0000-4000-8000-000000000005"]
    assert "process rules are not supported here" in errors[0].reason
    assert list(compiled.by_id) == ["9a1c0000-0000-4000-8000-000000000006"]
