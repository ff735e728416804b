"""Simulated agents: real agent processes (the installed agent plus the harness's counting sensor), each
with its own host id and state directory, so their spools, sequence numbers and signing keys are the real
ones. Each is enrolled in the collectors' keyring before it starts."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from agent.cli import render_enrollment
from agent.config import load_config
from agent.spool import SPOOL_FILE
from tests.support.kafka import KafkaAccess

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "tests" / "integration" / "agent_harness.py"


@dataclass(frozen=True)
class SpoolState:
    """What an operator reads from an agent's spool: rows waiting and the next sequence number."""

    depth: int
    next_sequence: int

    @property
    def spooled(self) -> int:
        """Events this agent numbered so far; every one must end up indexed exactly once."""
        return self.next_sequence - 1


@dataclass
class SimulatedAgent:
    """One agent process at a time on one state directory; ``kill`` is ``kill -9``, ``start`` resumes the
    same spool. ``crashes`` lists exits nobody asked for."""

    name: str
    kafka: KafkaAccess
    topic: str
    workdir: Path
    rate: float
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    crashes: list[str] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.workdir / self.name / "state"

    @property
    def agent_id(self) -> str:
        return (self.state_dir / "agent_id").read_text(encoding="utf-8").strip()

    def _config(self) -> Path:
        path = self.workdir / self.name / "agent.yaml"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            document = {
                "organization": {"id": "org-faults", "name": "Fault Suite Agency"},
                "system": {"name": "Fault suite", "security_level": 3},
                "kafka": self.kafka.config() | {"topic": self.topic, "request_timeout_s": 5},
                "host": {"id": f"host-{self.name}-{uuid.uuid4().hex[:6]}", "name": self.name},
                "state_dir": str(self.state_dir),
                "heartbeat": {"interval_s": 5},
                "pipeline": {"drain_timeout_s": 20},
            }
            path.write_text(yaml.safe_dump(document), encoding="utf-8")
        return path

    def enroll(self) -> dict[str, object]:
        """Its keyring entry, as ``canhgac-agent enroll`` prints it (creates the agent id and key)."""
        entry = yaml.safe_load(render_enrollment(load_config(self._config())))["agents"][0]
        assert isinstance(entry, dict)
        return entry

    def start(self) -> None:
        self.check_alive()
        config = self._config()
        log = (self.workdir / self.name / f"agent-{self.starts}.log").open("ab")
        self.starts += 1
        self.process = subprocess.Popen(
            [sys.executable, str(HARNESS), "--config", str(config), "--rate", str(self.rate)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def check_alive(self) -> None:
        """Record an exit nobody asked for (the process must live until killed on purpose)."""
        if self.process is not None and self.process.poll() is not None and self.process.returncode != 0:
            self.crashes.append(f"agent {self.name} exited with {self.process.returncode} unprompted")
            self.process = None

    def kill(self) -> None:
        self.check_alive()
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            self.process = None

    def stop(self, timeout_s: float = 40) -> int | None:
        """SIGTERM: the agent drains its spool for up to ``drain_timeout_s``; returns its exit code."""
        self.check_alive()
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(10)
            self.crashes.append(f"agent {self.name} ignored SIGTERM for {timeout_s} s")
        self.process = None
        return code

    def spool(self) -> SpoolState:
        path = self.state_dir / SPOOL_FILE
        if not path.exists():
            return SpoolState(0, 1)
        db = sqlite3.connect(path, timeout=10)
        try:
            (depth,) = db.execute("SELECT COALESCE(SUM(events), 0) FROM batches").fetchone()
            row = db.execute("SELECT value FROM counters WHERE name = 'next_sequence'").fetchone()
        except sqlite3.OperationalError:  # schema not created yet
            return SpoolState(0, 1)
        finally:
            db.close()
        return SpoolState(int(depth), int(row[0]) if row else 1)

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted((self.workdir / self.name).glob("*.log"))
        )


def write_keyring(path: Path, entries: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"agents": entries}), encoding="utf-8")
    path.chmod(0o600)
    return path
