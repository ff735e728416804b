"""Detection engine throughput: SigmaHQ rules over a generated Linux event stream, the SigmaHQ regression
events replayed at volume, and pySigma's SQLite backend on the same process rules and events.

Every throughput includes JSON decoding (orjson) of each event, because that is what the collector pays
per message; each is the median of three passes. Run alone with ``python -m benchmarks.engine`` (prints
JSON on stdout, progress on stderr); ``benchmarks/__main__.py`` calls :func:`run`.
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


def run(results: dict[str, float]) -> None:
    """Fill ``results`` with the engine figures; skips (with a printed reason) without ../shared/sigmahq."""
    if not (SIGMAHQ / "rules" / "linux").is_dir():
        _say(f"engine benchmark skipped: {SIGMAHQ} is absent (it holds the SigmaHQ rules to measure with)")
        return
    stream = linux_stream(STREAM_EVENTS, random.Random(SEED))
    for event in stream[::50]:
        event_from_dict(event)  # the generated stream must stay valid under the wire contract
    encoded = [orjson.dumps(event) for event in stream]

    linux = _load(
        "SigmaHQ Linux rules", lambda: DetectionEngine.from_paths([SIGMAHQ / "rules" / "linux"], PIPELINE)
    )
    results["engine_events_per_s_linux_rules"] = _throughput("Linux rules, mixed stream", linux, encoded)

    folders = sorted(path for path in SIGMAHQ.iterdir() if path.is_dir() and path.name.startswith("rules"))
    every = _load("all SigmaHQ rules", lambda: DetectionEngine.from_paths(folders, PIPELINE))
    results["sigmahq_rules_loaded"] = float(len(every.rules))
    results["sigmahq_rules_total"] = float(len(every.rules) + len(every.errors))
    results["engine_events_per_s_all_rules"] = _throughput("all rules, mixed stream", every, encoded)

    regression_root = SIGMAHQ / "regression_data"
    if regression_root.is_dir():
        regressions, replay = replay_regressions(regression_root, every)
        results["sigmahq_regression_passed"] = float(regressions.passed)
        results["sigmahq_regression_total"] = float(regressions.total)
        _say(
            f"SigmaHQ regression tests: {regressions.passed} of {regressions.total} passed "
            f"({regressions.exact_count} with exactly SigmaHQ's match_count)"
        )
        for failure in regressions.failed:
            _say(f"  failed: {failure}")
        events = regressions.events
        worst = [orjson.dumps(events[i % len(events)]) for i in range(WORST_CASE_EVENTS)]
        results["engine_events_per_s_worst_case"] = _throughput("all rules, regression events", replay, worst)
    else:
        _say(f"regression figures skipped: {regression_root} is absent")

    is_process = [event["event"]["dataset"] == "canhgac.process" for event in stream]
    process = [data for data, keep in zip(encoded, is_process, strict=True) if keep]
    ours = _throughput("Linux rules, process events only", linux, process)
    theirs = sqlite_events_per_s(process)
    results["engine_events_per_s_linux_process_events"] = ours
    results["sqlite_events_per_s_linux_process_events"] = theirs
    results["engine_ratio_vs_sqlite"] = round(ours / theirs, 2)
    _say(f"ratio ours / SQLite backend = {results['engine_ratio_vs_sqlite']}")


def sqlite_events_per_s(encoded: Sequence[bytes]) -> float:
    """SigmaHQ's Linux process_creation rules converted by pySigma's SQLite backend (same pipeline), run
    over an in-memory table: decode and insert every event, then run every query once."""
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
    rates, inserting, querying, matched = [], 0.0, 0.0, 0
    for _ in range(PASSES):
        connection = sqlite3.connect(":memory:")
        connection.create_function("regexp", 2, _regexp, deterministic=True)
        connection.execute(f"CREATE TABLE logs ({', '.join(f'`{column}`' for column in columns)})")
        started = time.perf_counter()
        rows = ([_dotted(orjson.loads(data), path) for path in paths] for data in encoded)
        connection.executemany(insert, rows)
        inserted = time.perf_counter()
        matched = sum(len(connection.execute(query).fetchall()) for query in queries)
        finished = time.perf_counter()
        connection.close()
        rates.append(len(encoded) / (finished - started))
        inserting, querying = inserted - started, finished - inserted
    rate = round(statistics.median(rates))
    _say(
        f"  SQLite backend, process events: {rate:,} events/s ({len(queries)} queries, {len(encoded):,}"
        f" events, {matched:,} rule matches; last pass {inserting:.2f} s decoding and inserting,"
        f" {querying:.2f} s querying)"
    )
    return float(rate)


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


def _throughput(label: str, engine: DetectionEngine, encoded: Sequence[bytes]) -> float:
    """Median events/s of ``orjson.loads`` + ``engine.match`` over ``encoded``, after a short warm-up."""
    match, loads = engine.match, orjson.loads
    for data in encoded[:500]:
        match(loads(data))
    rates, matched = [], 0
    for _ in range(PASSES):
        matched = 0
        started = time.perf_counter()
        for data in encoded:
            matched += len(match(loads(data)))
        rates.append(len(encoded) / (time.perf_counter() - started))
    rate = round(statistics.median(rates))
    _say(f"  {label}: {rate:,} events/s ({len(encoded):,} events, {matched:,} rule matches)")
    return float(rate)


def _load(label: str, load: Callable[[], DetectionEngine]) -> DetectionEngine:
    started = time.perf_counter()
    engine = load()
    elapsed = time.perf_counter() - started
    _say(f"loaded {label}: {len(engine.rules)} rules, {len(engine.errors)} not loaded, {elapsed:.1f} s")
    return engine


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    figures: dict[str, float] = {}
    run(figures)
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
