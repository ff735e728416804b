"""Every Sigma condition form, evaluated through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.collector.detection.detection_helpers import hit, single_rule

SELECTIONS = """\
sel_curl:
  process.name: curl
sel_wget:
  process.name: wget
sel_upload:
  process.command_line|contains: '--upload-file'
_helper:
  process.command_line|contains: 'never-present'
"""


@pytest.mark.parametrize(
    ("condition", "name", "command_line", "expected"),
    [
        ("sel_curl and sel_upload", "curl", "curl --upload-file x", True),
        ("sel_curl and sel_upload", "curl", "curl -O x", False),
        ("sel_curl or sel_wget", "wget", "wget x", True),
        ("sel_curl and not sel_upload", "curl", "curl -O x", True),
        ("sel_curl and not sel_upload", "curl", "curl --upload-file x", False),
        ("1 of sel_*", "wget", "wget x", True),
        ("any of sel_*", "nc", "nc --upload-file", True),
        ("1 of sel_*", "nc", "nc -l", False),
        ("all of sel_*", "curl", "curl --upload-file x", False),  # curl and wget cannot both hold
        ("1 of them", "nc", "nc never-present", False),  # _helper is not part of "them"
        ("all of them", "curl", "curl --upload-file", False),
        ("(sel_curl or sel_wget) and not (sel_upload or _helper)", "wget", "wget x", True),
        ("(sel_curl or sel_wget) and not (sel_upload or _helper)", "wget", "wget never-present", False),
        ("not (sel_curl or sel_wget)", "nc", "nc", True),
        ("not not sel_curl", "curl", "curl", True),
        ("1 of _helper*", "nc", "x never-present", True),  # explicitly named, '_' identifiers count
    ],
)
def test_condition_forms(
    tmp_path: Path, condition: str, name: str, command_line: str, expected: bool
) -> None:
    engine = single_rule(tmp_path, SELECTIONS + f"condition: {condition}")
    assert hit(engine, name=name, command_line=command_line) is expected


def test_all_of_them_excludes_underscore_identifiers(tmp_path: Path) -> None:
    detection = (
        "a:\n  process.name: curl\nb:\n  process.command_line|contains: up\n_c:\n  process.name: other\n"
    )
    engine = single_rule(tmp_path, detection + "condition: all of them")
    assert hit(engine, name="curl", command_line="curl up")


def test_list_of_conditions_means_any(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, SELECTIONS + "condition:\n  - sel_curl and sel_upload\n  - sel_wget")
    assert hit(engine, name="wget", command_line="wget x")
    assert hit(engine, name="curl", command_line="curl --upload-file x")
    assert not hit(engine, name="curl", command_line="curl x")


def test_list_of_maps_in_one_selection_is_or(tmp_path: Path) -> None:
    detection = "sel:\n  - process.name: curl\n    user.name: root\n  - process.name: wget\ncondition: sel"
    engine = single_rule(tmp_path, detection)
    assert hit(engine, name="wget")
    assert not hit(engine, name="curl")  # the first map needs both fields


def test_pipe_aggregation_is_rejected(tmp_path: Path) -> None:
    from tests.unit.collector.detection.detection_helpers import engine_for, rule_text

    engine = engine_for(tmp_path, rule_text("sel:\n  process.name: x\ncondition: sel | count() > 5"))
    assert engine.rules == []
    assert "pipe" in engine.errors[0].reason.lower()


def test_undefined_identifier_is_reported(tmp_path: Path) -> None:
    from tests.unit.collector.detection.detection_helpers import engine_for, rule_text

    engine = engine_for(tmp_path, rule_text("sel:\n  process.name: x\ncondition: sel and missing"))
    assert engine.rules == []
    assert "missing" in engine.errors[0].reason


def test_absurdly_nested_conditions_fail_that_rule_only(tmp_path: Path) -> None:
    from tests.unit.collector.detection.detection_helpers import engine_for, rule_text

    nested_not = rule_text("sel:\n  process.name: x\ncondition: " + "not " * 3000 + "sel", title="nots")
    deep_but_parsable = rule_text("sel:\n  process.name: x\ncondition: " + "not " * 80 + "sel", title="deep")
    fine = rule_text("sel:\n  process.name: y\ncondition: ((((sel))))", title="fine")
    engine = engine_for(tmp_path, nested_not, deep_but_parsable, fine)
    assert [rule.title for rule in engine.rules] == ["fine"]
    reasons = sorted(error.reason for error in engine.errors)
    assert "RecursionError" in reasons[0] or "nested deeper" in reasons[0]
    assert "nested deeper than 64" in reasons[1]
    assert engine.match({"event": {"dataset": "canhgac.process", "action": "exec"}, "process": {"name": "y"}})
