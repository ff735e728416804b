"""``canhgac-collector``: one entry point, one subcommand per job.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``; it is
imported only when chosen, so ``evaluate`` does not load the Kafka client and ``token`` does not load pySigma.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("collector.service", "consume events, detect, index alerts and events, update incidents"),
    "api": ("collector.api.serve", "serve the responders' HTTP API"),
    "evaluate": ("collector.detection.evaluate", "backtest Sigma rules over a JSONL file of events"),
    "rules": ("collector.detection.check", "load rule directories and report every rule that fails"),
    "token": ("collector.api.tokens_cli", "create, list and revoke API tokens"),
    "dashboards": ("collector.dashboards_cli", "import the Kibana saved objects"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="canhgac-collector", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = (list(argv) if argv is not None else sys.argv[1:])[:1]
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        if chosen == [name]:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
