"""A fault run: several real agents and two real collectors on their own topics and indices, faults
injected while the load flows, then a settle phase and the checker's verdict.

The short suite runs every fault once, in a fixed order; the soak draws faults at random intervals. Any
fault that stops Kafka or Elasticsearch starts it again in ``finally``: the stack is shared.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.faults.checker import AgentTally, OffsetCheck, Target, Verdict, check_committed, check_run
from tests.faults.collectors import CollectorPair
from tests.faults.fleet import SimulatedAgent, write_keyring
from tests.faults.hostile import HostileMessage, hostile_messages
from tests.faults.readback import committed_offsets, end_offsets
from tests.faults.rules import GOOD_RULES, HOSTILE_RULE_FILES, integrity_rules, write_rule_dir
from tests.support.es import EsAccess
from tests.support.kafka import KafkaAccess, allow_collector_prefix

TOPIC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The fault run's topics take messages above the contract's 1 MB limit, so oversized ones reach the
collector (a broker with the default limit would refuse them before the collector could)."""


class ServiceControl(Protocol):
    """Stops and starts the shared stack's servers (the ``stack`` fixture, or :class:`TestStack`)."""

    @property
    def kafka(self) -> KafkaAccess: ...

    def kafka_as(self, user: str) -> KafkaAccess: ...

    @property
    def es(self) -> EsAccess: ...

    def stop_service(self, service: str) -> None: ...

    def start_service(self, service: str) -> None: ...


@dataclass(frozen=True)
class FaultPlan:
    agents: int = 3
    agent_rate: float = 40.0
    outage_s: float = 6.0
    oversized: bool = True
    drain_hostile: bool = True
    """Wait until hostile messages are consumed before the next fault. The soak turns it off, and then a
    Kafka outage can catch a collector while it dead-letters them (docs/faults.md, findings)."""
    seed: int = field(default_factory=lambda: random.SystemRandom().randrange(1 << 30))


@dataclass
class FaultRun:
    """One run's processes and names; every fault is a method, and each logs what it did."""

    stack: ServiceControl
    workdir: Path
    plan: FaultPlan
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    agents: list[SimulatedAgent] = field(default_factory=list)
    offset_checks: list[OffsetCheck] = field(default_factory=list)
    hostile_sent: list[HostileMessage] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.plan.seed)
        self.target = Target(
            kafka=self.stack.kafka,
            collector_kafka=self.stack.kafka_as("collector") if self.stack.kafka.secure else None,
            es=self.stack.es,
            events_topic=f"f{self.suffix}.events",
            dead_letter_topic=f"f{self.suffix}.dead-letter",
            group_id=f"f{self.suffix}",
            index_prefix=f"f{self.suffix}-",
        )
        self.keyring = self.workdir / "keyring.yaml"
        self.collectors = CollectorPair(
            self.target, self.workdir / "rules", self.workdir / "collectors", self.keyring
        )

    @property
    def correlation_topic(self) -> str:
        return f"f{self.suffix}.correlation"

    def note(self, what: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {what}"
        self.faults.append(line)
        print(line, flush=True)

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(**self.target.kafka.client_kwargs())
        await admin.start()
        try:
            config = {"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)}
            names = (self.target.events_topic, self.target.dead_letter_topic, self.correlation_topic)
            await admin.create_topics([NewTopic(n, 4, 1, topic_configs=config) for n in names])
        finally:
            await admin.close()
        collector = self.target.collector_kafka
        if collector is not None and collector.username is not None:
            # The collectors run as the stack's collector principal, granted this run's topics and group.
            await allow_collector_prefix(self.target.kafka, collector.username, f"f{self.suffix}")
        write_rule_dir(self.workdir / "rules")
        for n in range(self.plan.agents):
            agent = SimulatedAgent(
                f"agent{n}",
                self.target.kafka,
                self.target.events_topic,
                self.workdir,
                self.plan.agent_rate,
            )
            self.agents.append(agent)
        write_keyring(self.keyring, [agent.enroll() for agent in self.agents])
        self.collectors.start_all()
        for agent in self.agents:
            agent.start()
        self.note(f"started 2 collectors and {self.plan.agents} agents on {self.target.events_topic}")

    # --- faults -------------------------------------------------------------------------------------

    async def kill_collector(self) -> None:
        slot = self.random.randrange(2)
        self.collectors.kill(slot)
        self.note(f"kill -9 collector {slot}")
        self.offset_checks.append(await check_committed(self.target))
        await asyncio.sleep(self.random.uniform(0.5, 2))
        self.collectors.start(slot)

    async def kill_agent(self) -> None:
        agent = self.random.choice(self.agents)
        agent.kill()
        self.note(f"kill -9 {agent.name}")
        await asyncio.sleep(self.random.uniform(0.2, 1.5))
        agent.start()

    async def stop_kafka(self) -> None:
        """Agents keep capturing into their spools; one is killed and restarted while Kafka is away."""
        self.note("Kafka stopping")
        await asyncio.to_thread(self.stack.stop_service, "kafka")
        try:
            await asyncio.sleep(self.plan.outage_s / 2)
            agent = self.random.choice(self.agents)
            agent.kill()
            agent.start()
            self.note(f"kill -9 {agent.name} while Kafka is down")
            await asyncio.sleep(self.plan.outage_s / 2)
            depths = [agent.spool().depth for agent in self.agents]
            self.note(f"spool depths with Kafka down: {depths}")
        finally:
            await asyncio.to_thread(self.stack.start_service, "kafka")
            self.note("Kafka started")

    async def stop_elasticsearch(self) -> None:
        """Collectors retry their writes; one is killed mid-retry."""
        self.note("Elasticsearch stopping")
        await asyncio.to_thread(self.stack.stop_service, "elasticsearch")
        try:
            await asyncio.sleep(self.plan.outage_s / 2)
            slot = self.random.randrange(2)
            self.collectors.kill(slot)
            self.collectors.start(slot)
            self.note(f"kill -9 collector {slot} while Elasticsearch is down")
            await asyncio.sleep(self.plan.outage_s / 2)
        finally:
            await asyncio.to_thread(self.stack.start_service, "elasticsearch")
            self.note("Elasticsearch started")

    async def send_hostile(self) -> None:
        messages = hostile_messages(oversized=self.plan.oversized, round_=len(self.hostile_sent))
        producer = AIOKafkaProducer(
            **self.target.kafka.client_kwargs(),
            acks="all",
            enable_idempotence=True,
            max_request_size=TOPIC_MAX_MESSAGE_BYTES,
        )
        await producer.start()
        try:
            for message in messages:
                await producer.send_and_wait(self.target.events_topic, value=message.value, key=message.key)
        finally:
            await producer.stop()
        self.hostile_sent += messages
        self.note(f"sent {len(messages)} hostile messages")
        if self.plan.drain_hostile:
            sent_up_to = await end_offsets(self.target.kafka, self.target.events_topic)
            await self.wait_until_committed(time.monotonic() + 60, sent_up_to)

    def catalogue(self) -> list[Callable[[], Awaitable[None]]]:
        return [
            self.kill_collector,
            self.kill_agent,
            self.send_hostile,
            self.stop_kafka,
            self.stop_elasticsearch,
        ]

    # --- ending -------------------------------------------------------------------------------------

    async def settle(self, timeout_s: float = 180) -> None:
        """Let the agents drain and stop them, then wait until the collectors committed everything. No
        grace period after that: a commit promises that the batch's events, alerts and incidents are
        written, and the checker holds the collector to it."""
        deadline = time.monotonic() + timeout_s
        while any(agent.spool().depth > 100 for agent in self.agents) and time.monotonic() < deadline:  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.5)
        for agent in self.agents:
            agent.stop()
        await self.wait_until_committed(deadline)
        self.note("settled")

    async def wait_until_committed(self, deadline: float, offsets: dict[int, int] | None = None) -> None:
        """Until the consumer group has committed up to ``offsets`` (default: the end of every partition,
        which the agents keep moving while they run), or the deadline."""
        while time.monotonic() < deadline:
            ends = offsets or await end_offsets(self.target.kafka, self.target.events_topic)
            committed = await committed_offsets(
                self.target.kafka, self.target.group_id, self.target.events_topic
            )
            if all(committed.get(p, 0) >= end for p, end in ends.items()):
                return
            await asyncio.sleep(1)

    async def verdict(self) -> Verdict:
        tallies = [AgentTally(a.agent_id, a.spool().spooled, a.spool().depth) for a in self.agents]
        crashes = [crash for agent in self.agents for crash in agent.crashes] + self.collectors.crashes()
        rules = GOOD_RULES + integrity_rules({agent.agent_id for agent in self.agents})
        verdict = await check_run(self.target, tallies, rules, self.offset_checks, crashes)
        self.collectors.judge_rule_report(verdict, HOSTILE_RULE_FILES)
        return verdict

    async def remove_data(self) -> None:
        """Drop this run's indices and topics (after a passing run; a failing one is kept to look at)."""
        async with self.target.es.client() as client:
            names = list(
                await client.indices.get(index=f"{self.target.index_prefix}*", allow_no_indices=True)
            )
            if names:
                await client.indices.delete(index=",".join(names))
        admin = AIOKafkaAdminClient(**self.target.kafka.client_kwargs())
        await admin.start()
        try:
            await admin.delete_topics(
                [self.target.events_topic, self.target.dead_letter_topic, self.correlation_topic]
            )
        finally:
            await admin.close()

    def shut_down(self) -> None:
        for agent in self.agents:
            if agent.process is not None:
                agent.process.send_signal(signal.SIGKILL)
                agent.process.wait(10)
        self.collectors.stop_all()


async def run_faults(
    stack: ServiceControl,
    workdir: Path,
    plan: FaultPlan,
    schedule: Callable[[FaultRun], Awaitable[None]],
    settle_timeout_s: float = 180,
) -> Verdict:
    run = FaultRun(stack, workdir, plan)
    print(f"fault run f{run.suffix}, seed {plan.seed}, work in {workdir}", flush=True)
    try:
        await run.start()
        await schedule(run)
        await run.settle(settle_timeout_s)
        verdict = await run.verdict()
    finally:
        run.shut_down()
    print(verdict.summary(), flush=True)
    if verdict.ok:
        await run.remove_data()
    return verdict


async def every_fault_once(run: FaultRun) -> None:
    """The short suite: each fault once, with load flowing between them."""
    await asyncio.sleep(8)  # both collectors running and consuming before the first fault
    for fault in run.catalogue():
        await asyncio.sleep(run.random.uniform(2, 4))
        await fault()
    await run.send_hostile()


def random_faults(minutes: float) -> Callable[[FaultRun], Awaitable[None]]:
    """The soak: every fault once, then faults drawn at random intervals until the time is up."""

    async def schedule(run: FaultRun) -> None:
        deadline = time.monotonic() + minutes * 60
        await every_fault_once(run)
        while time.monotonic() < deadline:
            await asyncio.sleep(run.random.uniform(5, 30))
            await run.random.choice(run.catalogue())()

    return schedule
