"""SigmaHQ's regression events (Windows evtx records exported as JSON) replayed through our engine.

Each regression test names a rule and an event file; it passes when the rule matches at least one of the
file's events. (SigmaHQ also records a ``match_count``; its exports sometimes hold more events than the
count covers, so an exact count is reported separately, for information.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from collector.detection import DetectionEngine, LogSource, Route, RoutingTable


@dataclass
class RegressionRun:
    """Outcome of replaying every regression test; ``events`` are routed, ready for a throughput run."""

    total: int = 0
    passed: int = 0
    exact_count: int = 0
    failed: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def regression_cases(root: Path) -> Iterator[tuple[str, Path, int | None]]:
    """(rule id, JSON event file, expected match count or None) for each evtx regression test."""
    for info_path in sorted(root.rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text(encoding="utf-8")) or {}
        metadata = info.get("rule_metadata") or []
        for test in info.get("regression_tests_info") or []:
            if metadata and test.get("type") == "evtx":
                event_file = info_path.parent / Path(str(test["path"])).with_suffix(".json").name
                yield str(metadata[0]["id"]), event_file, test.get("match_count")


def load_json_objects(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a file holding one or several concatenated, pretty-printed documents."""
    text, decoder, position = path.read_text(encoding="utf-8"), json.JSONDecoder(), 0
    found: list[dict[str, Any]] = []
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return found
        document, position = decoder.raw_decode(text, position)
        found.append(document)


def flatten_windows_event(document: Mapping[str, Any]) -> dict[str, Any]:
    """A record as Sigma's Windows rules name its fields: EventData / UserData values by name, System
    values by name (``EventID``, ``Channel``, ``Computer``), System attributes as ``Provider_Name``, and
    names with spaces (``Source Name``) also without them (``SourceName``)."""
    event = document.get("Event", document)
    flat: dict[str, Any] = {}
    for name, value in (event.get("System") or {}).items():
        if isinstance(value, dict):
            if "#text" in value:
                flat[name] = value["#text"]
            for attribute, attribute_value in (value.get("#attributes") or {}).items():
                flat[f"{name}_{attribute}"] = attribute_value
        else:
            flat[name] = value
    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, dict) and section == "UserData" and len(data) == 1:
            data = next(iter(data.values()))
        if isinstance(data, dict):
            flat.update({k: v for k, v in data.items() if k != "#attributes" and not isinstance(v, dict)})
    # Some providers (Windows Defender) name fields with spaces; Sigma rules name them without.
    flat.update({name.replace(" ", ""): value for name, value in flat.items() if " " in name})
    return flat


def replay_regressions(root: Path, engine: DetectionEngine) -> tuple[RegressionRun, DetectionEngine]:
    """Run every regression test against ``engine``'s rules. Events carry no ``event.dataset`` of the
    contract, so the returned engine shares the rules under a routing table with one route per log source
    of a tested rule: each event meets every rule whose log source covers its own, as in production."""
    rules = {rule.id: rule for rule in engine.rules}
    routes: dict[LogSource, Route] = {}
    cases = []
    for rule_id, path, expected in regression_cases(root):
        rule = rules.get(rule_id)
        if rule is not None and rule.logsource not in routes:
            number = len(routes)
            routes[rule.logsource] = Route(
                f"regression-{number}", f"regression.{number}", None, (rule.logsource,)
            )
        events = [flatten_windows_event(doc) for doc in load_json_objects(path)] if path.is_file() else []
        cases.append((rule_id, rule, events, expected))
    replay = DetectionEngine(engine.rules, routing=RoutingTable(routes.values()))
    outcome = RegressionRun(total=len(cases))
    for rule_id, rule, events, expected in cases:
        if rule is None or not events:
            outcome.failed.append(f"{rule_id}: {'rule not loaded' if rule is None else 'no events'}")
            continue
        dataset = routes[rule.logsource].dataset
        routed = [event | {"event": {"dataset": dataset}} for event in events]
        hits = sum(1 for event in routed if any(match.rule is rule for match in replay.match(event)))
        if hits:
            outcome.passed += 1
        else:
            outcome.failed.append(f"{rule_id}: {rule.title}: no event matched")
        outcome.exact_count += hits == (expected if expected is not None else hits)
        outcome.events.extend(routed)
    return outcome, replay
