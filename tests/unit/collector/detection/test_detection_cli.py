"""The ``rules`` and ``evaluate`` subcommands, through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from collector.cli import main
from tests.unit.collector.detection.detection_helpers import LINUX_ECS_PIPELINE, process_event, rule_text

RULE_ID = "5f1b2c3d-0000-4000-8000-0000000000e1"


def write_rules(directory: Path) -> Path:
    directory.mkdir()
    good = f"id: {RULE_ID}\n" + rule_text("sel:\n  Image|endswith: /nc\ncondition: sel", title="netcat")
    (directory / "good.yml").write_text(good, encoding="utf-8")
    (directory / "broken.yml").write_text("title: x\ndetection: [\n", encoding="utf-8")
    return directory


def test_rules_check_prints_count_and_every_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = write_rules(tmp_path / "rules")
    status = main(["rules", "--rules", str(rules), "--pipeline", str(LINUX_ECS_PIPELINE)])
    out = capsys.readouterr().out
    assert status == 1
    assert "loaded 1 rules and 0 correlation rules; 1 failed" in out
    assert f"FAILED {rules / 'broken.yml'}:3: YAML error" in out
    assert "route process_creation: 1 rules" in out


def test_rules_check_all_good_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write_rules(tmp_path / "rules")
    (rules / "broken.yml").unlink()
    assert main(["rules", "--rules", str(rules)]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_rules_check_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--rules", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_evaluate_prints_one_json_line_per_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write_rules(tmp_path / "rules")
    (rules / "broken.yml").unlink()
    events = tmp_path / "events.jsonl"
    hit = process_event(executable="/usr/bin/nc")
    hit["event"]["id"] = "evt-hit"
    miss = process_event(executable="/usr/bin/ls")
    lines = [orjson.dumps(miss), b"{not json", orjson.dumps(hit), b"", b"[1, 2]", orjson.dumps(hit)]
    events.write_bytes(b"\n".join(lines) + b"\n")
    status = main(
        ["evaluate", "--rules", str(rules), "--pipeline", str(LINUX_ECS_PIPELINE), "--events", str(events)]
    )
    captured = capsys.readouterr()
    assert status == 1  # two bad lines, reported, the rest evaluated
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [record["line"] for record in records] == [3, 6]
    assert records[0] | {"tags": None} == {
        "rule_id": RULE_ID,
        "rule_title": "netcat",
        "level": "high",
        "event_id": "evt-hit",
        "@timestamp": hit["@timestamp"],
        "rule_name": None,
        "tags": None,
        "event.dataset": "canhgac.process",
        "host.name": "srv-1",
        "line": 3,
    }
    assert f"{events}:2: skipped" in captured.err
    assert f"{events}:5: skipped: not a JSON object (list)" in captured.err


def test_evaluate_clean_run_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write_rules(tmp_path / "rules")
    (rules / "broken.yml").unlink()
    events = tmp_path / "events.jsonl"
    events.write_bytes(orjson.dumps(process_event(executable="/bin/ls")) + b"\n")
    assert main(["evaluate", "--rules", str(rules), "--events", str(events)]) == 0
    assert capsys.readouterr().out == ""
