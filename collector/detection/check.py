"""``canhgac-collector rules --rules DIR... [--pipeline FILE]``: load rules and report every failure.

Exit status 0 when every rule loaded, 1 when some failed (each is printed), 2 when nothing could load.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from collector.detection.cli_common import add_rule_arguments, build_engine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_rule_arguments(parser)


def run(args: argparse.Namespace) -> int:
    engine = build_engine(args)
    if engine is None:
        return 2
    out = sys.stdout
    print(
        f"loaded {len(engine.rules)} rules and {len(engine.correlation_rules)} correlation rules; "
        f"{len(engine.errors)} failed",
        file=out,
    )
    routing = engine.routing
    routes = Counter(route.name for rule in engine.rules for route in routing.routes_for_rule(rule.logsource))
    for name, count in sorted(routes.items()):
        print(f"  route {name}: {count} rules", file=out)
    if engine.unrouted_rules:
        print(f"  {len(engine.unrouted_rules)} rules have a log source no event route carries", file=out)
    for error in engine.errors:
        print(f"FAILED {error}", file=out)
    return 1 if engine.errors else 0
