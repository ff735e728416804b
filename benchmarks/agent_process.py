"""A real agent process for the agent benchmarks, and what it costs: RSS and CPU of its process tree.

The agent's sensors start helper processes (the process sensor's listener, the FIM sensor's hash pool,
which is a forkserver with its workers), so every figure is summed over the agent and its descendants,
found through the parent pid in ``/proc/PID/stat``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.support.kafka import KafkaAccess

REPO = Path(__file__).resolve().parents[1]
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def stack_connection() -> dict[str, Any]:
    """The local test stack (started if needed), as ``deploy/stack/stack.py up --json`` reports it."""
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "deploy" / "stack" / "stack.py"),
            "up",
            "--name",
            os.environ.get("CANHGAC_BENCH_STACK", "bench"),
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(orjson.loads(out))


def write_config(
    path: Path, kafka: KafkaAccess, topic: str, state_dir: Path, sensors: dict[str, Any]
) -> Path:
    document = {
        "organization": {"id": "bench-org", "name": "Benchmark agency"},
        "system": {"name": "Benchmark", "security_level": 3},
        "kafka": kafka.config() | {"topic": topic},
        "host": {"id": f"bench-{topic}", "name": "bench-host"},
        "state_dir": str(state_dir),
        "sensors": sensors,
    }
    path.write_text(yaml.safe_dump(document))
    return path


# --- /proc accounting ------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of the tree: live processes plus the reaped children they waited for."""
    ticks = 0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is not None:  # utime, stime, cutime, cstime are fields 14-17 of stat; 12-15 here
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICKS_PER_S


def _kib_field(path: str, name: str) -> float:
    """The ``name:`` line of a /proc file in kB, as MiB; 0 once the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mib(pid: int) -> float:
    return _kib_field(f"/proc/{pid}/status", "VmRSS:")


def pss_mib(pid: int) -> float:
    """Proportional set size: each resident page divided by the number of processes mapping it (on
    the whole host: libc and the interpreter's library are mapped by other processes too)."""
    return _kib_field(f"/proc/{pid}/smaps_rollup", "Pss:")


@dataclass(frozen=True)
class TreeMemory:
    total_mib: float
    main_mib: float
    processes: int
    pss_mib: float
    """The tree's summed PSS: the pages the agent and its listener share (one interpreter, its
    libraries) are not counted once per process as in ``total_mib``."""


def tree_memory(root: int) -> TreeMemory:
    pids = descendants(root)
    return TreeMemory(
        sum(rss_mib(pid) for pid in pids),
        rss_mib(root),
        len(pids),
        sum(pss_mib(pid) for pid in pids),
    )


# --- the agent process ---------------------------------------------------------------------------------


class AgentProcess:
    """``python -m agent.cli run --config FILE`` with its JSON log lines collected from stderr."""

    def __init__(self, config: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "run", "--config", str(config)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.pid = self._process.pid
        self.logs: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                entry = {"message": line.decode(errors="replace").rstrip()}
            with self._lock:
                self.logs.append(entry if isinstance(entry, dict) else {"message": str(entry)})

    def wait_for_log(self, matches: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                for entry in self.logs:
                    if matches(entry):
                        return entry
            if self._process.poll() is not None:
                raise RuntimeError(f"agent exited with {self._process.returncode}: {self.logs[-5:]}")
            time.sleep(0.1)
        raise TimeoutError(f"no matching agent log line within {timeout_s}s; last: {self.logs[-5:]}")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(5)


def measure_idle(agent: AgentProcess, seconds: float) -> tuple[TreeMemory, float]:
    """Memory at the end of ``seconds`` of idling and the tree's CPU over them, in % of one core."""
    cpu_before, started = cpu_seconds(agent.pid), time.monotonic()
    time.sleep(seconds)
    cpu_after, elapsed = cpu_seconds(agent.pid), time.monotonic() - started
    return tree_memory(agent.pid), 100 * (cpu_after - cpu_before) / elapsed
