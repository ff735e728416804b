"""The pre-filter's two implementations (Python scan, Rust extension) side by side in one process.

Separate runs of ``python -m benchmarks.engine`` vary too much on a shared machine to resolve a change
in one stage, so this compares both over the same engines' rules in one process: each chunk of 20
events runs alternately on each implementation, best of 15 repetitions, over the SigmaHQ regression
events (the worst case) and the generated Linux stream. Per event, in µs: decoding alone, decoding +
routing + view (what precedes the pre-filter), decoding + ``candidates()``, and decoding + the whole
``match``. Run with ``python -m benchmarks.engine_prefilter`` (needs ../shared/sigmahq and the built
extension); prints to stderr.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from benchmarks.engine import PIPELINE, SIGMAHQ
from benchmarks.engine_regression import replay_regressions
from benchmarks.engine_stream import linux_stream
from collector.detection import DetectionEngine
from collector.detection.event_view import EventView
from collector.detection.model import CompiledRule, RuleMatch
from collector.detection.prefilter import NATIVE_AVAILABLE, RouteIndex

CHUNK = 20
REPEATS = 15
ROUNDS = 3
Step = Callable[[Mapping[str, Any]], object]


def _steps(
    engine: DetectionEngine, native: bool
) -> tuple[Step, Callable[[Mapping[str, Any]], list[RuleMatch]]]:
    """candidates() and match() of ``engine``'s routes over indexes of one implementation."""
    indexes = {
        route.name: RouteIndex(engine.rules_of_route(route.name), native=native)
        for route in engine.routing.routes
    }
    route_for = engine.routing.route_for

    def candidates(event: Mapping[str, Any]) -> Sequence[CompiledRule]:
        route = route_for(event)
        return indexes[route.name].candidates(EventView(event)) if route is not None else ()

    def match(event: Mapping[str, Any]) -> list[RuleMatch]:  # DetectionEngine.match on these indexes
        route = route_for(event)
        if route is None:
            return []
        view = EventView(event)
        return [RuleMatch(rule, event) for rule in indexes[route.name].candidates(view) if rule.matcher(view)]

    return candidates, match


def compare(label: str, engine: DetectionEngine, encoded: Sequence[bytes]) -> dict[str, float]:
    (python_candidates, python_match), (native_candidates, native_match) = (
        _steps(engine, native=False),
        _steps(engine, native=True),
    )
    for event in map(orjson.loads, encoded):  # same answers, and a warm-up
        assert [m.rule.id for m in python_match(event)] == [m.rule.id for m in native_match(event)]
    route_for = engine.routing.route_for

    def walk(event: Mapping[str, Any]) -> object:
        route_for(event)
        return EventView(event)

    steps: dict[str, Step] = {
        "decode": lambda event: None,
        "decode+route+view": walk,
        "candidates python": python_candidates,
        "candidates native": native_candidates,
        "match python": python_match,
        "match native": native_match,
    }
    totals = dict.fromkeys(steps, 0.0)
    loads = orjson.loads
    for round_number in range(ROUNDS):
        order = list(steps.items()) if round_number % 2 == 0 else list(reversed(steps.items()))
        for start in range(0, len(encoded), CHUNK):
            chunk = encoded[start : start + CHUNK]
            for name, step in order:
                best = float("inf")
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    for data in chunk:
                        step(loads(data))
                    best = min(best, time.perf_counter() - started)
                totals[name] += best
    per_event = {name: total / (len(encoded) * ROUNDS) * 1e6 for name, total in totals.items()}
    stage = {
        kind: per_event[f"candidates {kind}"] - per_event["decode+route+view"]
        for kind in ("python", "native")
    }
    _say(f"{label} ({len(encoded)} events), µs per event:")
    for name, value in per_event.items():
        _say(f"  {name}: {value:.1f}")
    _say(
        f"  candidate stage python {stage['python']:.1f}, native {stage['native']:.1f}"
        f" ({stage['python'] / stage['native']:.2f}x); its share of the Python match"
        f" {stage['python'] / per_event['match python']:.0%}; whole match"
        f" {per_event['match python'] / per_event['match native']:.2f}x"
    )
    return per_event


def main() -> None:
    if not NATIVE_AVAILABLE:
        _say("the native pre-filter extension is not built: nothing to compare")
        return
    folders = sorted(path for path in SIGMAHQ.iterdir() if path.is_dir() and path.name.startswith("rules"))
    every = DetectionEngine.from_paths(folders, PIPELINE)
    linux = DetectionEngine.from_paths([SIGMAHQ / "rules" / "linux"], PIPELINE)
    regressions, replay = replay_regressions(SIGMAHQ, every)
    stream = [orjson.dumps(event) for event in linux_stream(2_000, random.Random(1))]
    compare(
        "all rules, regression events (worst case)", replay, [orjson.dumps(e) for e in regressions.events]
    )
    compare("Linux rules, mixed stream", linux, stream)
    compare("all rules, mixed stream", every, stream)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
