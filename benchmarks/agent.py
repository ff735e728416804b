"""The agent's costs and capacities, each beside its baseline, measured in one run (~3-4 minutes).

* Idle: a real agent (``python -m agent.cli run``, all sensors on, FIM over 10,000 files) after its
  baseline scan, idling ``IDLE_S`` seconds: RSS summed over the agent and its helper processes
  (``agent_idle_rss_mib``; the agent alone: ``agent_idle_rss_mib_main``), their summed PSS, in which a
  page they share is not counted once per process (``agent_idle_pss_mib``), and their CPU in % of one core.
* FIM baseline: a first scan of 20,000 files / 1 GiB (page cache warm) in files/s and MB/s, as a share of
  this machine's in-memory SHA-256 rate (``hashlib``, this process, this run) and against ``aide --init``
  over the same tree with sha256 + stat attributes.
* Delivery: events/s from a synthetic sensor to Kafka acknowledgement, and the agent's CPU at a steady
  1,000 events/s (``tests/integration/agent_harness.py``: the real pipeline, one extra sensor).
* Exec storm: 1,000 ``/bin/true`` while the real process sensor runs; the share found on Kafka as exec
  events with ``/bin/true``'s real executable and pid.

What needs root (the process sensor, installing AIDE) is skipped, with the reason printed, when not root.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import agent_fim  # noqa: E402
from benchmarks.agent_process import (  # noqa: E402
    AgentProcess,
    measure_idle,
    stack_connection,
    write_config,
)
from tests.integration.agent_harness import CountingSensor, create_topic  # noqa: E402
from tests.support.kafka import KafkaAccess  # noqa: E402

IDLE_S = float(os.environ.get("CANHGAC_BENCH_AGENT_IDLE_S", "30"))
THROUGHPUT_EVENTS = int(os.environ.get("CANHGAC_BENCH_AGENT_EVENTS", "40000"))
STEADY_RATE = 1000
STEADY_S = 15
STORM = 1000


def _print(name: str, value: float, results: dict[str, float], note: str = "") -> None:
    results[name] = round(value, 3)
    print(f"  {name} = {results[name]}{'  ' + note if note else ''}", flush=True)


# --- idle ---------------------------------------------------------------------------------------------


def measure_idle_agent(results: dict[str, float], kafka: KafkaAccess, work: Path) -> None:
    if os.geteuid() != 0:
        print("  idle agent skipped: the process sensor needs root")
        return
    tree = agent_fim.cached_tree(10_000, 40 * 2**20)
    auth_log = work / "auth.log"
    auth_log.touch()
    topic = f"bench.agent.idle.{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topic(kafka, topic, partitions=1))
    sensors = {
        "file_integrity": {"paths": [str(tree.path)]},
        "process": {},
        "login": {"sources": [str(auth_log)]},
    }
    config = write_config(work / "idle.yaml", kafka, topic, work / "idle-state", sensors)
    agent = AgentProcess(config)
    try:
        started = time.monotonic()
        agent.wait_for_log(lambda e: "baseline recorded" in str(e.get("message")), timeout_s=120)
        scan_s = time.monotonic() - started
        print(f"  agent baseline of {tree.files} files took {scan_s:.1f}s; idling {IDLE_S:g}s", flush=True)
        time.sleep(3)  # let the scan's last writes and the first heartbeat settle
        before = asyncio.run(_topic_size(kafka, topic))
        memory, cpu = measure_idle(agent, IDLE_S)
        during = asyncio.run(_topic_size(kafka, topic)) - before
    finally:
        agent.stop()
    _print("agent_idle_rss_mib", memory.total_mib, results, f"({memory.processes} processes)")
    _print("agent_idle_rss_mib_main", memory.main_mib, results)
    _print("agent_idle_pss_mib", memory.pss_mib, results, "(shared pages divided among their processes)")
    # "Idle" on a shared host: the process sensor reports every other user's execs meanwhile.
    _print("agent_idle_cpu_percent", cpu, results, f"({during} events delivered meanwhile)")
    _print("agent_idle_events_delivered", during, results)


async def _topic_size(kafka: KafkaAccess, topic: str) -> int:
    consumer = AIOKafkaConsumer(**kafka.client_kwargs())
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or {0}]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


# --- FIM baseline ----------------------------------------------------------------------------------------


def measure_fim_baseline(results: dict[str, float]) -> None:
    tree = agent_fim.cached_tree(20_000, 2**30)
    print(f"  tree {tree.path}: {tree.files} files, {tree.bytes / 1e6:.0f} MB, page cache warm", flush=True)
    sha_rate = agent_fim.sha256_in_memory_mb_per_s()
    _print("sha256_in_memory_mb_per_s", sha_rate, results)
    seconds = agent_fim.our_baseline_seconds(tree)
    _print("fim_baseline_files_per_s", tree.files / seconds, results, f"({seconds:.2f}s)")
    _print("fim_baseline_mb_per_s", tree.bytes / seconds / 1e6, results)
    _print("fim_baseline_ratio_vs_cpu_limit", tree.bytes / seconds / 1e6 / sha_rate, results)
    aide = agent_fim.ensure_aide()
    if aide is None:
        return
    aide_seconds = agent_fim.aide_baseline_seconds(aide, tree)
    _print("aide_baseline_files_per_s", tree.files / aide_seconds, results, f"({aide_seconds:.2f}s)")
    _print("fim_baseline_ratio_vs_aide", aide_seconds / seconds, results)


# --- delivery throughput and CPU -------------------------------------------------------------------------


def run_harness(
    kafka: KafkaAccess, work: Path, name: str, count: int, rate: float, tree: Path = REPO
) -> dict[str, Any]:
    """``tree``'s delivery harness on a fresh topic and state directory; its JSON report."""
    topic = f"bench.agent.{name}.{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topic(kafka, topic))
    config = write_config(work / f"{name}.yaml", kafka, topic, work / f"{name}-state", {})
    completed = subprocess.run(
        [
            sys.executable,
            str(tree / "tests" / "integration" / "agent_harness.py"),
            "--config",
            str(config),
            "--count",
            str(count),
            "--rate",
            str(rate),
            "--report",
        ],
        cwd=tree,  # so that the tree's own agent package is the one imported
        # The allocator `canhgac-agent run` restarts on (agent.memory.restart_with_system_malloc); the
        # harness does not go through the command, so it is given the same one here.
        env={**os.environ, "PYTHONMALLOC": "malloc"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{tree}: harness failed ({completed.returncode}): {completed.stderr[-1000:]}")
    report: dict[str, Any] = orjson.loads(lines[-1])
    return report


def measure_delivery(results: dict[str, float], kafka: KafkaAccess, work: Path) -> None:
    flat_out = run_harness(kafka, work, "throughput", THROUGHPUT_EVENTS, 0)
    _print(
        "agent_events_per_s",
        flat_out["events_per_s"],
        results,
        # (the harness's peak RSS is left out: a child forked from this process inherits its high mark)
        f"({flat_out['events']} events in {flat_out['seconds']}s, "
        f"{flat_out['cpu_percent_of_one_core']}% of a core)",
    )
    steady = run_harness(kafka, work, "steady", STEADY_RATE * STEADY_S, STEADY_RATE)
    _print(
        "agent_cpu_percent_at_1000_eps",
        steady["cpu_percent_of_one_core"],
        results,
        f"({steady['events_per_s']} events/s delivered over {steady['seconds']}s)",
    )
    # The synthetic sensor's own share of that figure: the same sensor feeding a queue nobody spools.
    _print("synthetic_sensor_cpu_percent_at_1000_eps", _on_agent_loop(), results)


def _on_agent_loop() -> float:
    return asyncio.run(_sensor_alone_cpu())  # the agent's loop (agent.service.run_event_loop)


async def _sensor_alone_cpu() -> float:
    sensor = CountingSensor(STEADY_RATE, 0)
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def feed() -> None:
        async for observation in sensor.observe():
            queue.put_nowait(observation)
            queue.get_nowait()

    feeding = asyncio.create_task(feed())
    cpu_started, started = time.process_time(), time.monotonic()
    await asyncio.sleep(5)
    feeding.cancel()
    return 100 * (time.process_time() - cpu_started) / (time.monotonic() - started)


# --- exec storm ------------------------------------------------------------------------------------------


def _spawn_true(count: int) -> set[int]:
    pids = set()
    for _ in range(count):
        pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
        pids.add(pid)
        os.waitpid(pid, 0)
    return pids


async def _execs_seen(
    kafka: KafkaAccess, topic: str, executable: str, wanted: set[int], wait_s: float
) -> set[int]:
    """Pids among ``wanted`` that arrive on ``topic`` as exec events of ``executable`` within ``wait_s``."""
    consumer = AIOKafkaConsumer(topic, **kafka.client_kwargs(), auto_offset_reset="earliest")
    await consumer.start()
    found: set[int] = set()
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not wanted <= found:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event = orjson.loads(record.value or b"{}")
                    process = event.get("process") or {}
                    action = (event.get("event") or {}).get("action")
                    if action == "exec" and process.get("executable") == executable:
                        found.add(int(process.get("pid", -1)))
        return found & wanted
    finally:
        await consumer.stop()


def measure_exec_storm(results: dict[str, float], kafka: KafkaAccess, work: Path) -> None:
    if os.geteuid() != 0:
        print("  exec storm skipped: the process sensor needs root")
        return
    executable = os.path.realpath("/bin/true")
    topic = f"bench.agent.storm.{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topic(kafka, topic, partitions=1))
    config = write_config(work / "storm.yaml", kafka, topic, work / "storm-state", {"process": {}})
    agent = AgentProcess(config)
    try:
        canaries: set[int] = set()
        for _ in range(30):  # the sensor is live once a canary exec reaches Kafka
            canaries |= _spawn_true(1)
            if asyncio.run(_execs_seen(kafka, topic, executable, canaries, 2.0)):
                break
        else:
            raise RuntimeError("the process sensor reported no exec within a minute")
        started = time.monotonic()
        storm = _spawn_true(STORM)
        spawn_s = time.monotonic() - started
        seen = asyncio.run(_execs_seen(kafka, topic, executable, storm, 30.0))
    finally:
        agent.stop()
    _print(
        "exec_storm_capture_ratio",
        len(seen) / len(storm),
        results,
        f"({len(seen)}/{len(storm)} of {executable}; spawned in {spawn_s:.1f}s)",
    )


def run(results: dict[str, float]) -> None:
    kafka = KafkaAccess.from_connection(stack_connection())
    with tempfile.TemporaryDirectory(prefix="canhgac-bench-agent-") as directory:
        work = Path(directory)
        print(" FIM baseline", flush=True)
        measure_fim_baseline(results)
        for step in (measure_idle_agent, measure_delivery, measure_exec_storm):
            print(f" {step.__name__.removeprefix('measure_').replace('_', ' ')}", flush=True)
            step(results, kafka, work)


if __name__ == "__main__":
    figures: dict[str, float] = {}
    run(figures)
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
