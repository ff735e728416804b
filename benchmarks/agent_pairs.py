"""The agent's CPU at a steady 1,000 events/s, two trees in alternating runs on one stack.

On a shared machine one run of the delivery harness moves by a point or more of a core from one minute to
the next, so a change is judged only against the tree before it, run in turn (docs/agent.md, "CPU per
event"). Each run is ``benchmarks/agent.py``'s steady run: a fresh topic of three partitions and a fresh
state directory, then ``TREE/tests/integration/agent_harness.py --count 15000 --rate 1000 --report`` with
this interpreter, from the tree's directory (so the tree's own ``agent`` package is the one imported):

    CANHGAC_BENCH_STACK=NAME python benchmarks/agent_pairs.py /work/main . --pairs 4

It prints every run as it ends (its ``cpu_percent_of_one_core``, events/s, peak RSS, load average) and
each tree's runs at the end. Copy a tree that is being edited aside first: a run imports it when it starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.agent import run_harness  # noqa: E402
from benchmarks.agent_process import stack_connection  # noqa: E402
from tests.support.kafka import KafkaAccess  # noqa: E402


def run_tree(tree: Path, kafka: KafkaAccess, work: Path, count: int, rate: float) -> dict[str, Any]:
    return run_harness(kafka, work, f"pairs.{uuid.uuid4().hex[:8]}", count, rate, tree)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", type=Path, nargs="+", help="checkouts to compare, run in this order")
    parser.add_argument("--pairs", type=int, default=4, help="rounds: each tree runs once per round")
    parser.add_argument("--count", type=int, default=15_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    arguments = parser.parse_args()
    kafka = KafkaAccess.from_connection(stack_connection())
    figures: dict[Path, list[float]] = {tree: [] for tree in arguments.trees}
    with tempfile.TemporaryDirectory(prefix="agent-pairs-") as work:
        for round_number in range(arguments.pairs):
            for tree in arguments.trees:
                load = os.getloadavg()[0]
                report = run_tree(tree.resolve(), kafka, Path(work), arguments.count, arguments.rate)
                figures[tree].append(report["cpu_percent_of_one_core"])
                print(
                    f"round {round_number} {tree}: {report['cpu_percent_of_one_core']} % of a core,"
                    f" {report['events_per_s']} events/s, peak RSS {report['peak_rss_mib']} MiB,"
                    f" load {load:.2f}",
                    flush=True,
                )
    for tree, values in figures.items():
        print(f"{tree}: {values}, mean {sum(values) / len(values):.2f}")


if __name__ == "__main__":
    main()
