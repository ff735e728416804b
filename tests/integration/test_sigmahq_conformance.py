"""Conformance of the detection engine with the SigmaHQ rule set and its regression data.

1. Every rule file under ../shared/sigmahq/rules* loads, or its failure is reported with a reason; the
   failures are tallied by reason and must all be of the expected kind.
2. Every regression case (SigmaHQ's Windows event exports, one directory per rule) matches its rule. The
   harness maps the exported events to Sigma's field names (System.* and EventData.* flattened) and routes
   each to its rule's log source. Cases whose outcome differs from SigmaHQ's `match_count` are listed in
   KNOWN_EXCEPTIONS with the reason; the test fails if that list is incomplete or out of date.
3. On the SigmaHQ Linux rules with the Linux->ECS pipeline, the literal pre-filter never drops a match.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.detection import CompileOptions, DetectionEngine, LogSource, Route, RoutingTable
from collector.detection.event_view import EventView

pytestmark = pytest.mark.sigmahq

PIPELINE = Path(__file__).resolve().parents[2] / "rules" / "pipelines" / "linux-ecs.yml"

# case directory (relative to regression_data) -> (events that match, why this differs from match_count)
KNOWN_EXCEPTIONS: dict[str, tuple[int, str]] = {
    "rules/windows/file/file_event/file_event_win_anydesk_artefact": (
        3,
        "match_count is 1, but three of the five exported events have a TargetFilename containing "
        "'\\AppData\\Roaming\\AnyDesk\\user.conf' (user.conf.new twice, user.conf~RF...TMP): the rule's "
        "`contains` is satisfied by each of them",
    ),
    "rules/windows/file/file_event/file_event_win_cred_dump_tools_dropped_files": (
        3,
        "match_count is 1, but the export holds three dropped files named in the rule's `endswith` list "
        "(procdump.exe, procdump64.exe, procdump64a.exe) plus their Zone.Identifier streams, which do not "
        "match",
    ),
    "rules/windows/registry/registry_set/registry_set_change_security_zones": (
        3,
        "match_count is 1, but all three SetValue events write DWORD (0x00000002) under ZoneMap\\Domains\\, "
        "which the selection matches and the filter (values 0, 1, '(Empty)') does not exclude",
    ),
    "rules/windows/registry/registry_set/registry_set_disable_administrative_share": (
        2,
        "match_count is 1, but both events set DWORD (0x00000000): one on AutoShareServer and one on "
        "AutoShareWks, the two values the rule lists",
    ),
}


@pytest.fixture(scope="module")
def rule_roots(sigmahq: Path) -> list[Path]:
    return sorted(path for path in sigmahq.glob("rules*") if path.is_dir())


@pytest.fixture(scope="module")
def all_rules(rule_roots: list[Path]) -> DetectionEngine:
    return DetectionEngine.from_paths(rule_roots)


def _reason_kind(reason: str) -> str:
    """Group failure reasons: strip the specifics (names, values) that differ per rule."""
    return re.sub(r"'[^']*'|%[^%]+%|\"[^\"]*\"", "…", reason)


def test_every_rule_file_loads_or_is_reported(rule_roots: list[Path], all_rules: DetectionEngine) -> None:
    files = {path for root in rule_roots for path in root.rglob("*") if path.suffix in (".yml", ".yaml")}
    loaded = [rule.source_path for rule in all_rules.rules]
    correlations = [rule.source.path for rule in all_rules.correlation_rules if rule.source is not None]
    failed = [error.path for error in all_rules.errors]
    by_reason = Counter(_reason_kind(error.reason) for error in all_rules.errors)
    print(
        f"\n{len(files)} rule files: {len(loaded)} rules and {len(correlations)} correlations loaded, "
        f"{len(failed)} failed"
    )
    for reason, count in by_reason.most_common():
        print(f"  {count:4d} × {reason}")
    assert len(loaded) + len(correlations) + len(failed) == len(files)
    assert set(loaded) | set(correlations) | set(failed) == files
    assert all(error.reason for error in all_rules.errors)
    # With no placeholder values configured, `|expand` rules cannot compile; nothing else may fail.
    unexpected = [str(error) for error in all_rules.errors if "placeholder" not in error.reason]
    assert unexpected == []


def test_placeholder_rules_load_once_values_are_configured(all_rules: DetectionEngine) -> None:
    failed = sorted({error.path for error in all_rules.errors})
    names: set[str] = set()
    engine, errors = all_rules, all_rules.errors
    for _ in range(5):  # an error names the first unconfigured placeholder of its rule
        found = {name for error in errors for name in re.findall(r"%([^%]+)%", error.reason)}
        if not found - names:
            break
        names |= found
        options = CompileOptions(placeholders={name: ["placeholder-value"] for name in names})
        engine = DetectionEngine.from_paths(failed, options=options)
        errors = engine.errors
    assert [str(error) for error in errors] == []
    assert len(engine.rules) == len(failed)


@dataclass(frozen=True)
class RegressionCase:
    directory: Path
    name: str
    rule_id: str
    events: list[dict[str, Any]]
    match_count: int | None


def _json_documents(path: Path) -> Iterator[Any]:
    """The exports hold one or several concatenated JSON documents."""
    text, decoder, position = path.read_text(encoding="utf-8"), json.JSONDecoder(), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        document, position = decoder.raw_decode(text, position)
        yield document


def _flatten_system(node: Any, prefix: str, out: dict[str, Any]) -> None:
    """System.Provider.#attributes.Name -> Provider_Name, System.EventID -> EventID, as Sigma names them."""
    if not isinstance(node, dict):
        out[prefix] = node
        return
    for key, value in node.items():
        if key == "#attributes":
            for attribute, attribute_value in value.items():
                out[f"{prefix}_{attribute}" if prefix else attribute] = attribute_value
        elif key == "#text":
            out[prefix] = value
        else:
            _flatten_system(value, f"{prefix}_{key}" if prefix else key, out)


def windows_event(document: dict[str, Any]) -> dict[str, Any]:
    event = document["Event"]
    flat: dict[str, Any] = {}
    _flatten_system(event.get("System", {}), "", flat)
    data = dict(event.get("EventData") or {})
    for value in (event.get("UserData") or {}).values():  # UserData wraps its fields in one element
        if isinstance(value, dict):
            data.update({k: v for k, v in value.items() if k != "#attributes"})
    for key, value in data.items():
        flat[key] = value
        if " " in key:  # Defender writes "Threat Name"; the Sigma taxonomy says ThreatName
            flat[key.replace(" ", "")] = value
    return flat


def regression_cases(sigmahq: Path) -> list[RegressionCase]:
    cases = []
    root = sigmahq / "regression_data"
    for info_path in sorted(root.rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text(encoding="utf-8"))
        rule_id = str(info["rule_metadata"][0]["id"])
        directory = info_path.parent
        name = directory.relative_to(root).as_posix()
        tests = info.get("regression_tests_info") or []
        for test in tests:
            export = directory / (Path(test["path"]).stem + ".json")
            events = [windows_event(doc) for doc in _json_documents(export)]
            cases.append(RegressionCase(directory, name, rule_id, events, test.get("match_count")))
        if not tests:  # raw syslog-style samples (the info.yml leaves the test commented out)
            for raw in sorted(directory.glob("*.raw")):
                lines = raw.read_text(encoding="utf-8").splitlines()
                events = [{"message": line} for line in lines if line.strip()]
                cases.append(RegressionCase(directory, name, rule_id, events, None))
    return cases


def _dataset(logsource: LogSource) -> str:
    return f"sigmahq:{logsource.product}/{logsource.category}/{logsource.service}"


def test_regression_data_matches_its_rules(sigmahq: Path, all_rules: DetectionEngine) -> None:
    by_id = {rule.id: rule for rule in all_rules.rules}
    cases = regression_cases(sigmahq)
    assert len(cases) > 200
    logsources = {by_id[case.rule_id].logsource for case in cases if case.rule_id in by_id}
    routing = RoutingTable(Route(_dataset(ls), _dataset(ls), None, (ls,)) for ls in logsources)
    engine = DetectionEngine(all_rules.rules, routing=routing)
    outcomes: dict[str, tuple[int, str]] = {}
    passed = 0
    for case in cases:
        rule = by_id.get(case.rule_id)
        if rule is None:
            outcomes[case.name] = (0, "rule not loaded")
            continue
        matched = 0
        for event in case.events:
            routed = {**event, "event": {"dataset": _dataset(rule.logsource)}}
            matched += any(match.rule.id == case.rule_id for match in engine.match(routed))
        expected_ok = matched >= 1 if case.match_count is None else matched == case.match_count
        if expected_ok:
            passed += 1
        else:
            outcomes[case.name] = (
                matched,
                f"matched {matched} of {len(case.events)}, match_count {case.match_count}",
            )
    print(
        f"\nregression cases: {passed} of {len(cases)} as SigmaHQ expects; {len(outcomes)} known exceptions"
    )
    for name, (_, detail) in sorted(outcomes.items()):
        print(f"  {name}: {detail}")
    assert {name: count for name, (count, _) in outcomes.items()} == {
        name: count for name, (count, _) in KNOWN_EXCEPTIONS.items()
    }
    assert passed == len(cases) - len(KNOWN_EXCEPTIONS)


def test_prefilter_never_drops_a_match_on_sigmahq_linux_rules(sigmahq: Path) -> None:
    engine = DetectionEngine.from_paths([sigmahq / "rules" / "linux"], PIPELINE)
    assert engine.errors == []
    rules = engine.rules_of_route("process_creation")
    vocabulary = sorted(
        {literal for rule in rules for clause in rule.requirement for _, literal, _ in clause}
    )
    rnd = random.Random(11)
    matched = 0
    for number in range(1500):
        words = [rnd.choice(vocabulary) for _ in range(rnd.randint(1, 6))]
        event = {
            "event": {"id": str(number), "dataset": "canhgac.process", "action": "exec"},
            "process": {
                # sometimes exactly a literal, upper-cased at times: equality tests get hits too
                "executable": rnd.choice(
                    [
                        rnd.choice(["/usr/bin/", "/tmp/", "/bin/"]) + rnd.choice(vocabulary).strip("/ "),
                        rnd.choice(vocabulary),
                        rnd.choice(vocabulary).upper(),
                    ]
                ),
                "command_line": " ".join(words),
                "args": words,
                "parent": {"executable": "/bin/" + rnd.choice(vocabulary).strip("/ ")},
            },
            "user": {"name": rnd.choice(["root", "www-data", "alice", rnd.choice(vocabulary)])},
        }
        expected = [rule.id for rule in rules if rule.matcher(EventView(event))]
        assert [match.rule.id for match in engine.match(event)] == expected, event
        matched += bool(expected)
    assert matched > 50
