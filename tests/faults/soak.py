"""The soak: the fault run for N minutes with faults at random intervals, on the test stack.

    python -m tests.faults.soak --minutes 10 --report benchmarks/results/soak.json

Writes the checker's counts as JSON and exits 1 if anything was lost, duplicated or crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from tests.faults.scenario import FaultPlan, random_faults, run_faults
from tests.support.es import EsAccess
from tests.support.kafka import KafkaAccess

REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "deploy" / "stack" / "stack.py"


@dataclass(frozen=True)
class TestStack:
    """The same stack as the tests' ``stack`` fixture (name ``test`` unless CANHGAC_TEST_STACK says)."""

    name: str
    kafka_bootstrap: str
    es_url: str
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def kafka(self) -> KafkaAccess:
        """The Kafka super user, as the ``stack`` fixture gives it."""
        return KafkaAccess.from_connection(self.settings)

    def kafka_as(self, user: str) -> KafkaAccess:
        return KafkaAccess.from_connection(self.settings, user)

    @property
    def es(self) -> EsAccess:
        return EsAccess.from_stack(self.settings)

    @classmethod
    def up(cls) -> TestStack:
        name = os.environ.get("CANHGAC_TEST_STACK", "test")
        result = subprocess.run(
            [sys.executable, str(STACK_SCRIPT), "up", "--name", name, "--json"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        settings = json.loads(result.stdout)
        return cls(name, settings["kafka_bootstrap"], settings["es_url"], settings)

    def _run(self, command: str, service: str) -> None:
        subprocess.run(
            [sys.executable, str(STACK_SCRIPT), command, "--name", self.name, "--service", service],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop_service(self, service: str) -> None:
        self._run("down", service)

    def start_service(self, service: str) -> None:
        self._run("up", service)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--rate", type=float, default=40, help="events per second per agent")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--oversized",
        action="store_true",
        help="also send a 2.4 MB message (off: it stops the collector, docs/faults.md)",
    )
    arguments = parser.parse_args()
    plan = FaultPlan(
        agents=arguments.agents, agent_rate=arguments.rate, oversized=arguments.oversized, drain_hostile=False
    )
    if arguments.seed is not None:
        plan = replace(plan, seed=arguments.seed)
    with tempfile.TemporaryDirectory(prefix="canhgac-soak-") as workdir:
        verdict = asyncio.run(
            run_faults(TestStack.up(), Path(workdir), plan, random_faults(arguments.minutes))
        )
    arguments.report.parent.mkdir(parents=True, exist_ok=True)
    report = {"minutes": arguments.minutes, "agents": plan.agents, "rate": plan.agent_rate, "seed": plan.seed}
    arguments.report.write_bytes(orjson.dumps(report | verdict.as_dict(), option=orjson.OPT_INDENT_2))
    sys.exit(0 if verdict.ok else 1)


if __name__ == "__main__":
    main()
