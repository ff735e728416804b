"""``canhgac-collector evaluate --rules DIR... [--pipeline FILE] --events FILE.jsonl``: backtest rules.

Prints one JSON object per match on stdout. Lines that are not JSON objects are reported on stderr with
their line number and skipped; the rest are still evaluated. Exit status 0 when everything loaded and
parsed, 1 when some rule or event line was bad, 2 when nothing could run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from collector.detection.cli_common import add_rule_arguments, build_engine
from collector.detection.model import RuleMatch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rule_arguments(parser)
    parser.add_argument("--events", type=Path, required=True, metavar="FILE", help="JSONL, one event a line")


def _get(document: Mapping[str, Any], dotted: str) -> Any:
    node: Any = document
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def match_record(match: RuleMatch, line_number: int) -> dict[str, Any]:
    rule, event = match.rule, match.event
    return {
        "rule_id": rule.id,
        "rule_title": rule.title,
        "level": rule.level,
        "event_id": _get(event, "event.id"),
        "@timestamp": event.get("@timestamp"),
        "rule_name": rule.name,
        "tags": rule.tags,
        "event.dataset": _get(event, "event.dataset"),
        "host.name": _get(event, "host.name"),
        "line": line_number,
    }


def run(args: argparse.Namespace) -> int:
    engine = build_engine(args)
    if engine is None:
        return 2
    for error in engine.errors:
        print(f"rule not loaded: {error}", file=sys.stderr)
    bad_lines = 0
    try:
        handle = args.events.open("rb")
    except OSError as error:
        print(f"error: cannot read events: {error}", file=sys.stderr)
        return 2
    with handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                event = error
            if not isinstance(event, dict):
                bad_lines += 1
                kind = type(event).__name__
                reason = event if isinstance(event, Exception) else f"not a JSON object ({kind})"
                print(f"{args.events}:{line_number}: skipped: {reason}", file=sys.stderr)
                continue
            for match in engine.match(event):
                sys.stdout.buffer.write(orjson.dumps(match_record(match, line_number)) + b"\n")
    sys.stdout.flush()
    return 1 if bad_lines or engine.errors else 0
