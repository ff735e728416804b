"""Where the idle agent's memory is: ``measure_idle_agent``'s scenario, then each process's mappings.

    CANHGAC_BENCH_STACK=NAME python benchmarks/agent_memory.py [--top N]

Starts the agent as ``benchmarks/agent.py``'s idle measurement does (all sensors, FIM over 10,000
files, ``IDLE_S`` seconds idle after the baseline), prints the figures that measurement prints and then,
for the agent and its listener, ``/proc/PID/smaps`` summed per mapped file (``[heap]``, anonymous
mappings, libpython, libcrypto, the extension modules…): resident kB, proportional kB and anonymous kB,
largest first. It changes nothing in ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import agent_fim  # noqa: E402
from benchmarks.agent import IDLE_S  # noqa: E402
from benchmarks.agent_process import (  # noqa: E402
    AgentProcess,
    descendants,
    measure_idle,
    write_config,
)
from tests.integration.agent_harness import create_topic  # noqa: E402
from tests.support.kafka import KafkaAccess  # noqa: E402

_FIELDS = ("Rss:", "Pss:", "Anonymous:")


def mappings(pid: int) -> dict[str, Counter[str]]:
    """kB per mapped file (its base name) or pseudo-mapping (``[heap]``, ``[anon]`` for anonymous)."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    name = "[anon]"
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as smaps:
        for line in smaps:
            fields = line.split()
            if fields and not fields[0].endswith(":"):  # a mapping's header: range, perms, …, path
                path = fields[5] if len(fields) > 5 else "[anon]"
                name = os.path.basename(path) if path.startswith("/") else path
            elif fields and fields[0] in _FIELDS:
                found[name][fields[0][:-1]] += int(fields[1])
    return found


def report(pid: int, top: int) -> None:
    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    threads = len(os.listdir(f"/proc/{pid}/task"))
    print(f"pid {pid} ({threads} threads): {command[:100]}")
    by_file = sorted(mappings(pid).items(), key=lambda item: -item[1]["Rss"])
    print(f"  {'mapping':44s} {'Rss kB':>8s} {'Pss kB':>8s} {'Anon kB':>8s}")
    for name, sizes in by_file[:top]:
        print(f"  {name[:44]:44s} {sizes['Rss']:8d} {sizes['Pss']:8d} {sizes['Anonymous']:8d}")
    total = Counter[str]()
    for _, sizes in by_file:
        total.update(sizes)
    print(f"  {'all':44s} {total['Rss']:8d} {total['Pss']:8d} {total['Anonymous']:8d}")


def _kafka_only() -> dict[str, Any]:
    """The stack's Kafka (started if needed) as ``stack.py up --json`` reports it; not Elasticsearch."""
    out = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "stack" / "stack.py"), "up", "--service", "kafka", "--json"]
        + ["--name", os.environ.get("CANHGAC_BENCH_STACK", "bench")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--top", type=int, default=15, help="mappings shown per process (default 15)")
    top = parser.parse_args().top
    kafka = KafkaAccess.from_connection(_kafka_only())
    tree = agent_fim.cached_tree(10_000, 40 * 2**20)
    with tempfile.TemporaryDirectory(prefix="canhgac-agent-memory-") as directory:
        work = Path(directory)
        (work / "auth.log").touch()
        topic = f"bench.agent.memory.{uuid.uuid4().hex[:8]}"
        asyncio.run(create_topic(kafka, topic, partitions=1))
        sensors = {
            "file_integrity": {"paths": [str(tree.path)]},
            "process": {},
            "login": {"sources": [str(work / "auth.log")]},
        }
        agent = AgentProcess(write_config(work / "idle.yaml", kafka, topic, work / "state", sensors))
        try:
            agent.wait_for_log(lambda e: "baseline recorded" in str(e.get("message")), timeout_s=120)
            time.sleep(3)  # as measure_idle_agent: the scan's last writes and the first heartbeat settle
            memory, cpu = measure_idle(agent, IDLE_S)
            print(
                f"agent + listener {memory.total_mib:.1f} MiB RSS, agent {memory.main_mib:.1f}, "
                f"PSS of the two {memory.pss_mib:.1f}; {cpu:.1f} % of a core idle"
            )
            for pid in descendants(agent.pid):
                report(pid, top)
        finally:
            agent.stop()


if __name__ == "__main__":
    main()
