"""Detection engine throughput: SigmaHQ rules over a generated Linux event stream, the SigmaHQ regression
events replayed at volume, and pySigma's SQLite backend on the same process rules and events.

Every throughput includes JSON decoding (orjson) of each event, because that is what the collector pays
per message. Figures that are compared with each other are measured in interleaved passes (A, B, A, B,
...) and each is the median of its passes, so load from other processes on a shared machine hits both
alike. Run alone with ``python -m benchmarks.engine`` (JSON on stdout, progress on stderr);
``benchmarks/__main__.py`` calls :func:`run`.
"""

from __future__ import annotations

import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from benchmarks.engine_regression import replay_regressions
from benchmarks.engine_stream import linux_stream
from collector.detection import DetectionEngine
from event_contract import event_from_dict

REPO = Path(__file__).resolve().parents[1]
SIGMAHQ = REPO.parent / "shared" / "sigmahq"
PIPELINE = REPO / "rules" / "pipelines" / "linux-ecs.yml"
STREAM_EVENTS = 20_000
WORST_CASE_EVENTS = 5_000
PASSES = 3
SEED = 20261122

Pass = Callable[[], tuple[float, int]]
"""One timed pass over a fixed input: (events per second, rule matches found)."""


def run(results: dict[str, float]) -> None:
    """Fill ``results`` with the engine figures; skips (with a printed reason) without ../shared/sigmahq."""
    if not (SIGMAHQ / "rules" / "linux").is_dir():
        _say(f"engine benchmark skipped: {SIGMAHQ} is absent (it holds the SigmaHQ rules to measure with)")
        return
    stream = linux_stream(STREAM_EVENTS, random.Random(SEED))
    for event in stream[::50]:
        event_from_dict(event)  # the generated stream must stay valid under the wire contract
    encoded = [orjson.dumps(event) for event in stream]
    process = [data for data, event in zip(encoded, stream, strict=True) if _is_exec(event)]

    linux = _load("SigmaHQ Linux rules", [SIGMAHQ / "rules" / "linux"])
    folders = sorted(path for path in SIGMAHQ.iterdir() if path.is_dir() and path.name.startswith("rules"))
    every = _load("all SigmaHQ rules", folders)
    results["sigmahq_rules_loaded"] = float(len(every.rules))
    results["sigmahq_rules_total"] = float(len(every.rules) + len(every.errors))

    figures = _interleaved(
        {
            "Linux rules, mixed stream": _engine_pass(linux, encoded),
            "all rules, mixed stream": _engine_pass(every, encoded),
        }
    )
    results["engine_events_per_s_linux_rules"] = figures["Linux rules, mixed stream"]
    results["engine_events_per_s_all_rules"] = figures["all rules, mixed stream"]

    regression_root = SIGMAHQ / "regression_data"
    if regression_root.is_dir():
        regressions, replay = replay_regressions(SIGMAHQ, every)
        results["sigmahq_regression_passed"] = float(regressions.passed)
        results["sigmahq_regression_total"] = float(regressions.total)
        results["sigmahq_regression_exact_match_count"] = float(regressions.exact_count)
        _say(
            f"SigmaHQ regression tests: {regressions.passed} of {regressions.total} passed"
            f" ({regressions.exact_count} with exactly SigmaHQ's match_count)"
        )
        for failure in regressions.failed:
            _say(f"  failed: {failure}")
        events = regressions.events
        worst = [orjson.dumps(events[i % len(events)]) for i in range(WORST_CASE_EVENTS)]
        label = "all rules, regression events"
        results["engine_events_per_s_worst_case"] = _interleaved({label: _engine_pass(replay, worst)})[label]
    else:
        _say(f"regression figures skipped: {regression_root} is absent")

    figures = _interleaved(
        {
            "our engine, Linux process events": _engine_pass(linux, process),
            "pySigma SQLite backend, same events": _sqlite_pass(process),
        }
    )
    ours, theirs = figures.values()
    results["engine_events_per_s_linux_process_events"] = ours
    results["sqlite_events_per_s_linux_process_events"] = theirs
    results["engine_ratio_vs_sqlite"] = round(ours / theirs, 2)
    _say(f"ratio ours / SQLite backend = {results['engine_ratio_vs_sqlite']}")


def _is_exec(event: Mapping[str, Any]) -> bool:
    return bool(event["event"]["dataset"] == "canhgac.process" and event["event"]["action"] == "exec")


def _engine_pass(engine: DetectionEngine, encoded: Sequence[bytes]) -> Pass:
    """``orjson.loads`` + ``engine.match`` over ``encoded``, after a short warm-up."""
    match, loads = engine.match, orjson.loads
    for data in encoded[:500]:
        match(loads(data))

    def once() -> tuple[float, int]:
        matched = 0
        started = time.perf_counter()
        for data in encoded:
            matched += len(match(loads(data)))
        return len(encoded) / (time.perf_counter() - started), matched

    return once


def _sqlite_pass(encoded: Sequence[bytes]) -> Pass:
    """SigmaHQ's Linux process_creation rules converted once by pySigma's SQLite backend (with the same
    pipeline); a pass decodes and inserts every event into a fresh in-memory table, then runs every query."""
    from sigma.backends.sqlite.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    from sigma.processing.pipeline import ProcessingPipeline

    collection = SigmaCollection.load_ruleset([str(SIGMAHQ / "rules" / "linux" / "process_creation")])
    pipeline = ProcessingPipeline.from_yaml(PIPELINE.read_text(encoding="utf-8"))
    backend = sqliteBackend(processing_pipeline=pipeline, collect_errors=True)  # type: ignore[no-untyped-call]
    queries = [str(query) for query in backend.convert(collection)]
    columns = sorted(set(re.findall(r"`([^`]+)`", " ".join(queries))))
    paths = [column.split(".") for column in columns]
    insert = f"INSERT INTO logs VALUES ({', '.join('?' for _ in columns)})"
    _say(
        f"  SQLite backend: {len(queries)} queries over {len(columns)} columns, {len(backend.errors)} errors"
    )

    def once() -> tuple[float, int]:
        connection = sqlite3.connect(":memory:")
        connection.create_function("regexp", 2, _regexp, deterministic=True)
        connection.execute(f"CREATE TABLE logs ({', '.join(f'`{column}`' for column in columns)})")
        started = time.perf_counter()
        connection.executemany(
            insert, ([_dotted(orjson.loads(data), path) for path in paths] for data in encoded)
        )
        matched = sum(len(connection.execute(query).fetchall()) for query in queries)
        elapsed = time.perf_counter() - started
        connection.close()
        return len(encoded) / elapsed, matched

    return once


def _interleaved(passes: dict[str, Pass]) -> dict[str, float]:
    """Median events/s of each pass, the passes run in turn ``PASSES`` times; prints each figure."""
    rates: dict[str, list[float]] = {label: [] for label in passes}
    matched: dict[str, int] = {}
    for _ in range(PASSES):
        for label, once in passes.items():
            rate, matched[label] = once()
            rates[label].append(rate)
    medians = {label: float(round(statistics.median(values))) for label, values in rates.items()}
    for label, rate in medians.items():
        _say(f"  {label}: {rate:,.0f} events/s ({matched[label]:,} rule matches a pass)")
    return medians


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and _compiled(pattern).search(str(value)) is not None


def _dotted(document: Mapping[str, Any], path: list[str]) -> Any:
    node: Any = document
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, str | int | float) else None


def _load(label: str, paths: list[Path]) -> DetectionEngine:
    started = time.perf_counter()
    engine = DetectionEngine.from_paths(paths, PIPELINE)
    elapsed = time.perf_counter() - started
    _say(f"loaded {label}: {len(engine.rules)} rules, {len(engine.errors)} not loaded, {elapsed:.1f} s")
    return engine


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    figures: dict[str, float] = {}
    run(figures)
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
