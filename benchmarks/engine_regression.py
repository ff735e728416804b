"""SigmaHQ's regression events replayed through our engine, for pass counts and a worst-case stream.

The cases and their field flattening come from the conformance test
(``tests/integration/test_sigmahq_conformance.py``), so the benchmark and the test read the exports the
same way. A case *passes* here when its rule matches at least one of its events (the rule detects what
SigmaHQ recorded); how many also match exactly SigmaHQ's ``match_count`` is reported beside it (the
conformance test lists and justifies the cases where the two differ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.detection import DetectionEngine, LogSource, Route, RoutingTable
from tests.integration.test_sigmahq_conformance import regression_cases


@dataclass
class RegressionRun:
    """Outcome of replaying every regression case; ``events`` are routed, ready for a throughput run."""

    total: int = 0
    passed: int = 0
    exact_count: int = 0
    failed: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def replay_regressions(sigmahq: Path, engine: DetectionEngine) -> tuple[RegressionRun, DetectionEngine]:
    """Run every regression case against ``engine``'s rules. The events carry no ``event.dataset`` of the
    contract, so the returned engine shares the rules under a routing table with one route per log source
    of a tested rule: each event meets every rule whose log source covers its own, as in production."""
    rules = {rule.id: rule for rule in engine.rules}
    cases = regression_cases(sigmahq)
    routes: dict[LogSource, Route] = {}
    for case in cases:
        rule = rules.get(case.rule_id)
        if rule is not None and rule.logsource not in routes:
            number = len(routes)
            routes[rule.logsource] = Route(
                f"regression-{number}", f"regression.{number}", None, (rule.logsource,)
            )
    replay = DetectionEngine(engine.rules, routing=RoutingTable(routes.values()))
    outcome = RegressionRun(total=len(cases))
    for case in cases:
        rule = rules.get(case.rule_id)
        if rule is None or not case.events:
            outcome.failed.append(f"{case.name}: {'rule not loaded' if rule is None else 'no events'}")
            continue
        dataset = routes[rule.logsource].dataset
        routed = [event | {"event": {"dataset": dataset}} for event in case.events]
        hits = sum(1 for event in routed if any(match.rule is rule for match in replay.match(event)))
        if hits:
            outcome.passed += 1
        else:
            outcome.failed.append(f"{case.name}: no event matched")
        outcome.exact_count += hits == (case.match_count if case.match_count is not None else hits)
        outcome.events.extend(routed)
    return outcome, replay
