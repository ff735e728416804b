"""The installed agent as a child process (``python -m agent.cli run``) and a reader of its Kafka topic.

:class:`AgentProcess` writes a configuration file, starts the agent, and stops it with SIGTERM the way
systemd does; its own log (JSON lines) goes to a file whose tail is shown when a test fails.
:class:`TopicReader` follows one single-partition topic from its first record and decodes every record
with the contract, so a record that is not contract-valid fails the test where it is read.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from event_contract import Event, decode_event
from tests.support.kafka import KafkaAccess

REPO = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 30.0
LOG_TAIL_BYTES = 4000


def agent_config(
    kafka: KafkaAccess, topic: str, state_dir: Path, sensors: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """An agent configuration with only ``sensors`` enabled and a heartbeat every second."""
    return {
        "organization": {"id": "org-e2e", "name": "E2E Agency"},
        "system": {"name": "Agent to Kafka", "security_level": 3},
        "kafka": kafka.config() | {"topic": topic, "request_timeout_s": 10},
        "host": {"id": f"host-e2e-{uuid.uuid4().hex[:8]}", "name": "e2e-host"},
        "state_dir": str(state_dir),
        "heartbeat": {"interval_s": 1},
        "pipeline": {"drain_timeout_s": 10},
        "logging": {"level": "INFO"},
        "sensors": sensors,
    }


class AgentProcess:
    """One agent configuration run as a child process, possibly several times in a row.

    Lifecycle: :meth:`start` launches ``python -m agent.cli run --config FILE``; :meth:`stop` sends
    SIGTERM and waits for the exit code (a graceful stop drains the spool to Kafka first); leaving the
    ``with`` block kills the process if it is still running, so no test leaves an agent behind.
    """

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.config_path = workdir / "agent.yaml"
        self.config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        self.log_path = workdir / "agent.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.stop_durations_s: list[float] = []
        """How long each stop took from SIGTERM to exit."""

    def start(self) -> None:
        if self.running:
            raise RuntimeError("the agent is already running")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "--config", str(self.config_path)],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> int:
        """SIGTERM, then the exit code; kills the agent if it has not exited within the timeout."""
        process = self._process
        if process is None:
            raise RuntimeError("the agent was never started")
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                code = process.wait(STOP_TIMEOUT_S)
                self.stop_durations_s.append(time.monotonic() - signalled)
                return code
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                raise AssertionError(
                    f"the agent did not stop within {STOP_TIMEOUT_S} s of SIGTERM\n{self.log_tail()}"
                ) from None
        return process.returncode

    def log_tail(self) -> str:
        if not self.log_path.exists():
            return "(no agent log)"
        data = self.log_path.read_bytes()[-LOG_TAIL_BYTES:]
        return "agent log (tail):\n" + data.decode("utf-8", "replace")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)


async def create_topic(kafka: KafkaAccess, topic: str) -> None:
    """A single-partition topic: the agent keys by host, so one partition holds its whole order."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


class TopicReader:
    """Every record of ``topic`` (partition 0) from offset 0, decoded with ``event_contract.decode_event``.

    Lifecycle: use as ``async with``; :meth:`poll` fetches what has arrived since the last call and
    appends it to :attr:`events` in offset order; :meth:`wait_for` polls until a condition on all events
    read so far holds, or fails the test after ``within_s`` seconds. ``decode_event`` raising (a record
    that breaks the contract) propagates, so no invalid record can pass unnoticed.
    """

    def __init__(self, kafka: KafkaAccess, topic: str) -> None:
        self._partition = TopicPartition(topic, 0)
        self._consumer = AIOKafkaConsumer(**kafka.client_kwargs(), enable_auto_commit=False)
        self.events: list[Event] = []

    async def __aenter__(self) -> Self:
        await self._consumer.start()
        self._consumer.assign([self._partition])
        await self._consumer.seek_to_beginning(self._partition)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    async def poll(self, timeout_ms: int = 500) -> list[Event]:
        batches = await self._consumer.getmany(self._partition, timeout_ms=timeout_ms, max_records=5000)
        fresh = [decode_event(record.value) for record in batches.get(self._partition, []) if record.value]
        self.events.extend(fresh)
        return fresh

    async def wait_for(
        self, condition: Callable[[list[Event]], bool], within_s: float, what: str, agent: AgentProcess
    ) -> None:
        deadline = time.monotonic() + within_s
        while not condition(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within_s} s waiting for {what}\n{agent.log_tail()}")
            if not agent.running:
                raise AssertionError(f"the agent exited while waiting for {what}\n{agent.log_tail()}")
            await self.poll()

    async def settle(self, quiet_s: float, within_s: float = 30.0) -> None:
        """Read on until nothing new has arrived for ``quiet_s`` seconds (or ``within_s`` have passed)."""
        quiet_since = started = time.monotonic()
        while time.monotonic() - quiet_since < quiet_s and time.monotonic() - started < within_s:
            if await self.poll(timeout_ms=200):
                quiet_since = time.monotonic()


def sequence_faults(events: Iterable[Event]) -> list[str]:
    """Where, per agent id, the sequence numbers in arrival order stop being exactly 1, 2, 3, …"""
    per_agent: dict[str, list[int]] = {}
    for event in events:
        per_agent.setdefault(event.agent.id, []).append(event.event.sequence)
    faults = []
    for agent, numbers in per_agent.items():
        for expected, found in enumerate(numbers, start=1):
            if found != expected:
                context = numbers[max(0, expected - 4) : expected + 3]
                faults.append(f"agent {agent}: record {expected} has sequence {found} (around: {context})")
                break
    return faults


async def stop_gracefully(agent: AgentProcess) -> None:
    """Stop the agent off the event loop (``stop`` blocks for up to the drain timeout)."""
    code = await asyncio.to_thread(agent.stop)
    assert code == 0, f"the agent exited with {code}\n{agent.log_tail()}"
