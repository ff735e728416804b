"""Loading rule directories: every failure reported with path and line, every other rule still loads."""

from __future__ import annotations

import uuid
from pathlib import Path

from collector.detection import DetectionEngine
from collector.detection.bounded_yaml import MAX_RULE_FILE_BYTES
from tests.unit.collector.detection.detection_helpers import process_event, rule_text

GOOD = rule_text("sel:\n  process.name: curl\ncondition: sel", title="good one")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_recursive_yml_and_yaml_are_loaded_other_files_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD.replace("good one", "a"))
    write(tmp_path, "sub/deeper/b.yaml", GOOD.replace("good one", "b"))
    write(tmp_path, "notes.txt", "not a rule")
    engine = DetectionEngine.from_paths([tmp_path])
    assert sorted(rule.title for rule in engine.rules) == ["a", "b"]
    assert engine.errors == []


def test_yaml_syntax_error_reports_path_and_line_and_others_load(tmp_path: Path) -> None:
    broken = write(
        tmp_path, "broken.yml", "title: broken\nlogsource:\n  product: linux\ndetection: [unclosed\n"
    )
    write(tmp_path, "good.yml", GOOD)
    engine = DetectionEngine.from_paths([tmp_path])
    assert [rule.title for rule in engine.rules] == ["good one"]
    assert len(engine.errors) == 1
    error = engine.errors[0]
    assert error.path == broken
    assert error.line == 5
    assert "YAML" in error.reason
    assert str(error).startswith(f"{broken}:5: ")


def test_sigma_errors_are_reported_per_rule(tmp_path: Path) -> None:
    write(
        tmp_path, "no_condition.yml", "title: x\nlogsource:\n  product: linux\ndetection:\n  sel:\n    a: b\n"
    )
    write(tmp_path, "bad_modifier.yml", rule_text("sel:\n  process.name|nonsense: x\ncondition: sel"))
    write(tmp_path, "bad_level.yml", GOOD.replace("level: high", "level: apocalyptic"))
    write(tmp_path, "good.yml", GOOD)
    engine = DetectionEngine.from_paths([tmp_path])
    assert [rule.title for rule in engine.rules] == ["good one"]
    reasons = {error.path.name: error.reason for error in engine.errors}
    assert set(reasons) == {"no_condition.yml", "bad_modifier.yml", "bad_level.yml"}
    assert "condition" in reasons["no_condition.yml"].lower()
    assert "nonsense" in reasons["bad_modifier.yml"]
    assert "level" in reasons["bad_level.yml"].lower()


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "dup.yml", GOOD + "level: low\n")
    engine = DetectionEngine.from_paths([tmp_path])
    assert engine.rules == []
    assert "duplicate key" in engine.errors[0].reason
    assert engine.errors[0].line is not None


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    write(tmp_path, "bomb.yml", GOOD + "\n".join(lines) + "\n")
    write(tmp_path, "good.yml", GOOD)
    engine = DetectionEngine.from_paths([tmp_path])
    assert [rule.title for rule in engine.rules] == ["good one"]
    assert "alias bomb" in engine.errors[0].reason


def test_deep_nesting_is_refused_without_crashing(tmp_path: Path) -> None:
    # libyaml's composer recurses in C: 50,000 levels would overflow the stack and kill the process.
    write(tmp_path, "deep.yml", GOOD + "deep: " + "[" * 50_000 + "]" * 50_000 + "\n")
    write(tmp_path, "good.yml", GOOD)
    engine = DetectionEngine.from_paths([tmp_path])
    assert [rule.title for rule in engine.rules] == ["good one"]
    assert "nested deeper" in engine.errors[0].reason
    assert engine.errors[0].line == GOOD.count("\n") + 1


def test_oversized_file_is_refused_unparsed(tmp_path: Path) -> None:
    write(tmp_path, "huge.yml", GOOD + "# " + "x" * MAX_RULE_FILE_BYTES + "\n")
    engine = DetectionEngine.from_paths([tmp_path])
    assert engine.rules == []
    assert "limit" in engine.errors[0].reason


def test_non_utf8_and_non_mapping_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes(b"title: caf\xe9\n")
    write(tmp_path, "list.yml", "- just\n- a list\n")
    write(tmp_path, "empty.yml", "")
    engine = DetectionEngine.from_paths([tmp_path])
    reasons = {error.path.name: error.reason for error in engine.errors}
    assert "UTF-8" in reasons["latin1.yml"]
    assert "not a mapping" in reasons["list.yml"]
    assert "no YAML document" in reasons["empty.yml"]


def test_missing_rule_path_raises(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(FileNotFoundError):
        DetectionEngine.from_paths([tmp_path / "absent"])


def test_rule_metadata(tmp_path: Path) -> None:
    rule_id = "5f1b2c3d-0000-4000-8000-000000000001"
    text = (
        f"title: Meta\nid: {rule_id}\nname: meta_rule\nstatus: experimental\ndescription: says what\n"
        "references: [https://example.org]\nauthor: SOC\ntags: [attack.execution, attack.t1059.004]\n"
        "falsepositives: [admins]\nlevel: critical\n"
        "logsource:\n  product: linux\n  category: process_creation\n"
        "detection:\n  sel:\n    process.name: sh\n  condition: sel\n"
    )
    path = write(tmp_path, "meta.yml", text)
    (rule,) = DetectionEngine.from_paths([tmp_path]).rules
    assert (rule.id, rule.name, rule.title, rule.level, rule.status) == (
        rule_id,
        "meta_rule",
        "Meta",
        "critical",
        "experimental",
    )
    assert rule.tags == ["attack.execution", "attack.t1059.004"]
    assert rule.references == ["https://example.org"]
    assert (rule.author, rule.falsepositives, rule.description) == ("SOC", ["admins"], "says what")
    assert (rule.logsource.product, rule.logsource.category, rule.logsource.service) == (
        "linux",
        "process_creation",
        None,
    )
    assert rule.source_path == path
    assert rule.matches(process_event(name="SH"))


def test_rule_without_id_gets_a_stable_derived_id(tmp_path: Path) -> None:
    write(tmp_path, "first/no_id.yml", GOOD)
    first = DetectionEngine.from_paths([tmp_path / "first"]).rules[0].id
    moved_root = tmp_path / "elsewhere"
    write(moved_root, "no_id.yml", GOOD)
    assert DetectionEngine.from_paths([moved_root]).rules[0].id == first  # relative to the rule root
    assert uuid.UUID(first).version == 5


def test_duplicate_rule_ids_keep_the_first(tmp_path: Path) -> None:
    rule_id = "5f1b2c3d-0000-4000-8000-000000000002"
    write(tmp_path, "a.yml", f"id: {rule_id}\n" + GOOD.replace("good one", "first"))
    write(tmp_path, "b.yml", f"id: {rule_id}\n" + GOOD.replace("good one", "second"))
    engine = DetectionEngine.from_paths([tmp_path])
    assert [rule.title for rule in engine.rules] == ["first"]
    assert "duplicate rule id" in engine.errors[0].reason


CORRELATION = """\
title: many curls
name: many_curls
id: 5f1b2c3d-0000-4000-8000-0000000000c1
correlation:
  type: event_count
  rules: [curl_rule]
  group-by: [host.name]
  timespan: 5m
  condition:
    gte: 10
"""


def test_correlation_rules_are_collected_and_base_rules_still_match(tmp_path: Path) -> None:
    base = GOOD.replace("title: good one", "title: curl\nname: curl_rule")
    write(tmp_path, "rules.yml", base + "---\n" + CORRELATION)
    engine = DetectionEngine.from_paths([tmp_path])
    assert engine.errors == []
    assert [rule.title for rule in engine.correlation_rules] == ["many curls"]
    (rule,) = engine.rules
    assert rule.generates_alerts is False  # used by a correlation without `generate: true`
    assert engine.match(process_event(name="curl"))


def test_correlation_with_unknown_reference_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "corr.yml", CORRELATION)
    write(tmp_path, "good.yml", GOOD)
    engine = DetectionEngine.from_paths([tmp_path])
    assert engine.correlation_rules == []
    assert "curl_rule" in engine.errors[0].reason
    assert [rule.title for rule in engine.rules] == ["good one"]


def test_reload_builds_a_new_engine_and_leaves_the_old_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    engine = DetectionEngine.from_paths([tmp_path])
    write(tmp_path, "b.yml", GOOD.replace("good one", "added").replace("curl", "wget"))
    reloaded = engine.reload()
    assert len(engine.rules) == 1
    assert sorted(rule.title for rule in reloaded.rules) == ["added", "good one"]
    assert reloaded.match(process_event(name="wget"))


FILTER = """\
title: admins may curl
filter:
  rules: [curl_rule]
  selection:
    user.name: admin
  condition: not selection
logsource:
  product: linux
  category: process_creation
"""


def test_filter_in_another_file_applies_to_the_rules_it_names(tmp_path: Path) -> None:
    write(tmp_path, "rule.yml", GOOD.replace("title: good one", "title: curl\nname: curl_rule"))
    write(tmp_path, "other.yml", GOOD.replace("good one", "unfiltered"))
    write(tmp_path, "zz_filter.yml", FILTER)
    engine = DetectionEngine.from_paths([tmp_path])
    assert engine.errors == []
    admin = process_event(name="curl")
    admin["user"] = {"name": "admin"}
    other = process_event(name="curl")
    other["user"] = {"name": "mallory"}
    assert sorted(match.rule.title for match in engine.match(admin)) == ["unfiltered"]
    assert sorted(match.rule.title for match in engine.match(other)) == ["curl", "unfiltered"]
