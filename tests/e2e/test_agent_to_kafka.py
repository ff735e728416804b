"""The real agent process, through the real Kafka: what its sensors see is what the topic holds.

Each test runs ``python -m agent.cli run`` with its own state directory and a fresh single-partition
topic, acts on the machine (files, a storm of execs, logins on a loopback sshd), then reads the topic
back decoding every record with the contract. Every test also checks that the agent's sequence numbers
run 1, 2, 3, … without a gap over everything it sent, heartbeats included.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from event_contract import AuthenticationEvent, Event, FileEvent, HeartbeatEvent, ProcessEvent
from tests.e2e.agent_process import (
    AgentProcess,
    TopicReader,
    agent_config,
    create_topic,
    sequence_faults,
    stop_gracefully,
)
from tests.support.kafka import KafkaAccess
from tests.support.sshd import local_account, needs_sshd, running_sshd, ssh_login

TRUE_PROGRAM = os.path.realpath("/bin/true")  # /usr/bin/true on a merged-/usr system
STORM = 1000
ARRIVAL_LIMIT_S = 60.0
"""Longest a test waits for what it did to reach Kafka."""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="the agent's sensors (proc connector, sshd, test accounts) need root"
    ),
]


class KafkaStack(Protocol):
    """What these tests use of the ``stack`` fixture (tests/conftest.py)."""

    @property
    def kafka(self) -> KafkaAccess: ...


async def fresh_topic(stack: KafkaStack, purpose: str) -> str:
    topic = f"e2e-agent-{purpose}-{uuid.uuid4().hex[:8]}"
    await create_topic(stack.kafka, topic)
    return topic


# --- file integrity ------------------------------------------------------------------------------------


def file_integrity(watched: Path) -> dict[str, dict[str, Any]]:
    return {"file_integrity": {"paths": [str(watched)], "exclude": [], "debounce_s": 0.2}}


def file_actions(events: list[Event], path: Path) -> list[str]:
    return [
        event.event.action or ""
        for event in events
        if isinstance(event, FileEvent) and event.file.path == str(path)
    ]


def has_file_action(path: Path, action: str) -> Callable[[list[Event]], bool]:
    return lambda events: action in file_actions(events, path)


async def wait_until_watching(reader: TopicReader, agent: AgentProcess, watched: Path) -> None:
    """Create probe files until one's creation reaches Kafka: the first scan records what it finds
    without reporting it, so a change is only reported once the baseline and the watches are in place."""
    deadline = time.monotonic() + ARRIVAL_LIMIT_S
    attempt = 0
    while time.monotonic() < deadline:
        probe = watched / f".probe-{attempt}"
        probe.write_text("probe")
        try:
            await reader.wait_for(has_file_action(probe, "creation"), 1.5, f"creation of {probe}", agent)
            return
        except AssertionError:
            if not agent.running:
                raise
        attempt += 1
    raise AssertionError(f"the agent never reported a probe file in {watched}\n{agent.log_tail()}")


async def test_file_changes_arrive_in_order_with_gapless_sequences(stack: KafkaStack, tmp_path: Path) -> None:
    topic = await fresh_topic(stack, "fim")
    watched = tmp_path / "www"
    watched.mkdir()
    target = watched / "upload.php"
    config = agent_config(stack.kafka, topic, tmp_path / "state", file_integrity(watched))
    with AgentProcess(tmp_path, config) as agent:
        agent.start()
        async with TopicReader(stack.kafka, topic) as reader:
            await wait_until_watching(reader, agent, watched)
            target.write_text("<?php echo 'hello';")
            await reader.wait_for(has_file_action(target, "creation"), ARRIVAL_LIMIT_S, "creation", agent)
            with target.open("a") as stream:  # a burst of writes: one modification
                for _ in range(20):
                    stream.write("<?php system($_GET['c']); ?>")
                    stream.flush()
            await reader.wait_for(
                has_file_action(target, "modification"), ARRIVAL_LIMIT_S, "modification", agent
            )
            os.chmod(target, 0o4755)
            await reader.wait_for(
                has_file_action(target, "attributes_modification"), ARRIVAL_LIMIT_S, "chmod", agent
            )
            target.unlink()
            await reader.wait_for(has_file_action(target, "deletion"), ARRIVAL_LIMIT_S, "deletion", agent)
            await stop_gracefully(agent)
            await reader.settle(quiet_s=1.0)
    events = reader.events
    assert file_actions(events, target) == [
        "creation",
        "modification",
        "attributes_modification",
        "deletion",
    ]
    chmod = next(
        event
        for event in events
        if isinstance(event, FileEvent)
        and event.file.path == str(target)
        and event.event.action == "attributes_modification"
    )
    assert chmod.file.mode == "04755"
    assert sum(isinstance(event, HeartbeatEvent) for event in events) >= 1
    assert {event.organization.id for event in events} == {"org-e2e"}
    assert sequence_faults(events) == []


async def test_a_change_made_while_the_agent_was_stopped_is_reported_after_restart(
    stack: KafkaStack, tmp_path: Path
) -> None:
    topic = await fresh_topic(stack, "restart")
    watched = tmp_path / "bin"
    watched.mkdir()
    (watched / "ls").write_bytes(b"\x7fELF original")
    (watched / "ps").write_bytes(b"\x7fELF ps")
    config = agent_config(stack.kafka, topic, tmp_path / "state", file_integrity(watched))
    expected = {
        ("modification", str(watched / "ls")),
        ("deletion", str(watched / "ps")),
        ("creation", str(watched / ".hidden")),
    }

    def reported(events: list[Event]) -> set[tuple[str, str]]:
        return {
            (event.event.action or "", event.file.path) for event in events if isinstance(event, FileEvent)
        }

    with AgentProcess(tmp_path, config) as agent:
        agent.start()
        async with TopicReader(stack.kafka, topic) as reader:
            await wait_until_watching(reader, agent, watched)
            await stop_gracefully(agent)
            (watched / "ls").write_bytes(b"\x7fELF trojaned")
            (watched / "ps").unlink()
            (watched / ".hidden").write_text("backdoor")
            agent.start()
            await reader.wait_for(
                lambda events: expected <= reported(events),
                ARRIVAL_LIMIT_S,
                "the offline changes after the restart",
                agent,
            )
            await stop_gracefully(agent)
            await reader.settle(quiet_s=1.0)
    events = reader.events
    about_originals = {item for item in reported(events) if not Path(item[1]).name.startswith(".probe-")}
    assert about_originals == expected, "each offline change once, nothing about untouched files"
    assert len({event.agent.id for event in events}) == 1, "the agent keeps its id across a restart"
    assert sequence_faults(events) == [], "the sequence goes on from the spool across the restart"


# --- processes ----------------------------------------------------------------------------------------


def exec_of(pid: int) -> Callable[[list[Event]], bool]:
    return lambda events: any(
        isinstance(event, ProcessEvent) and event.event.action == "exec" and event.process.pid == pid
        for event in events
    )


def end_of(pid: int) -> Callable[[list[Event]], bool]:
    return lambda events: any(
        isinstance(event, ProcessEvent) and event.event.action == "end" and event.process.pid == pid
        for event in events
    )


async def wait_until_seeing_execs(reader: TopicReader, agent: AgentProcess) -> None:
    """Run a short program until its exec reaches Kafka: the proc connector is subscribed then."""
    deadline = time.monotonic() + ARRIVAL_LIMIT_S
    while time.monotonic() < deadline:
        probe = await asyncio.create_subprocess_exec("/bin/sleep", "0.05")
        await probe.wait()
        try:
            await reader.wait_for(exec_of(probe.pid), 1.5, f"the exec of probe {probe.pid}", agent)
            return
        except AssertionError:
            if not agent.running:
                raise
    raise AssertionError(f"the agent never reported a probe exec\n{agent.log_tail()}")


async def test_an_exec_storm_reaches_kafka_with_the_executables(stack: KafkaStack, tmp_path: Path) -> None:
    topic = await fresh_topic(stack, "storm")
    config = agent_config(stack.kafka, topic, tmp_path / "state", {"process": {}})
    with AgentProcess(tmp_path, config) as agent:
        launched = time.monotonic()
        agent.start()
        async with TopicReader(stack.kafka, topic) as reader:
            await wait_until_seeing_execs(reader, agent)
            started = time.monotonic()
            ready_s = started - launched
            storm = await asyncio.create_subprocess_exec(
                "/bin/bash", "-c", f"for i in $(seq {STORM}); do {TRUE_PROGRAM}; done"
            )
            assert await storm.wait() == 0
            storm_s = time.monotonic() - started
            # The kernel reports the shell's exit after every exec of its children.
            await reader.wait_for(end_of(storm.pid), ARRIVAL_LIMIT_S, "the storm shell's exit", agent)
            arrived_s = time.monotonic() - started
            # Not settling here: the sensor sees every exec on this shared machine, so the topic is
            # never quiet while the agent runs. A graceful stop delivers whatever it still holds.
            await stop_gracefully(agent)
            await reader.settle(quiet_s=1.0)
    events = reader.events
    storm_execs = [
        event
        for event in events
        if isinstance(event, ProcessEvent)
        and event.event.action == "exec"
        and event.process.parent is not None
        and event.process.parent.pid == storm.pid
    ]
    storm_trues = [event for event in storm_execs if event.process.executable == TRUE_PROGRAM]
    storm_children = Counter(event.process.executable for event in storm_execs)
    ratio = len(storm_trues) / STORM
    print(
        f"exec storm through Kafka: {len(storm_trues)}/{STORM} ({ratio:.1%}) with executable "
        f"{TRUE_PROGRAM}; ready after {ready_s:.1f} s, storm took {storm_s:.1f} s, in Kafka after "
        f"{arrived_s:.1f} s, stopped in {agent.stop_durations_s[0]:.1f} s; {len(events)} records on "
        f"the topic; the storm shell's children by executable: {dict(storm_children)}"
    )
    assert sequence_faults(events) == [], "a gap means events were lost after capture"
    assert len({event.process.pid for event in storm_trues}) == len(storm_trues), "no exec twice"
    assert ratio >= 0.99, (
        f"only {len(storm_trues)} of {STORM} execs reached Kafka as {TRUE_PROGRAM}; "
        f"children by executable: {dict(storm_children)}\n{agent.log_tail()}"
    )


# --- logins on a real sshd ----------------------------------------------------------------------------


@pytest.fixture
def account() -> Iterator[tuple[str, str]]:
    with local_account("cgkafka") as created:
        yield created


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with running_sshd(tmp_path) as listening:
        yield listening


def ssh_logins(events: list[Event], user: str) -> list[AuthenticationEvent]:
    return [
        event
        for event in events
        if isinstance(event, AuthenticationEvent)
        and event.event.action == "ssh_login"
        and event.user is not None
        and event.user.name == user
    ]


@needs_sshd
async def test_failed_and_accepted_ssh_logins_reach_kafka(
    stack: KafkaStack, tmp_path: Path, sshd: tuple[int, Path], account: tuple[str, str]
) -> None:
    port, sshd_log = sshd
    user, password = account
    topic = await fresh_topic(stack, "ssh")
    # Read the log from its start rather than from its end on this first run, so the logins below
    # cannot happen before the sensor has opened the file; sshd's start-up lines carry no login.
    login = {"sources": [{"path": str(sshd_log), "program": "sshd"}], "poll_interval_s": 0.1}
    sensors = {"login": {**login, "start_at_end": False}}
    config = agent_config(stack.kafka, topic, tmp_path / "state", sensors)
    with AgentProcess(tmp_path, config) as agent:
        agent.start()
        async with TopicReader(stack.kafka, topic) as reader:
            for _ in range(2):
                assert await ssh_login(port, user, "wrong-" + password) != 0
            assert await ssh_login(port, user, password) == 0
            await reader.wait_for(
                lambda events: (
                    [e.event.outcome for e in ssh_logins(events, user)].count("failure") >= 2
                    and "success" in [e.event.outcome for e in ssh_logins(events, user)]
                ),
                ARRIVAL_LIMIT_S,
                "two failed and one accepted ssh login",
                agent,
            )
            await stop_gracefully(agent)
            await reader.settle(quiet_s=1.0)
    logins = ssh_logins(reader.events, user)
    assert [event.event.outcome for event in logins] == ["failure", "failure", "success"]
    written = {line.strip() for line in sshd_log.read_text().splitlines()}
    for event, verb in zip(logins, ("Failed", "Failed", "Accepted"), strict=True):
        assert event.source is not None
        assert event.source.ip == "127.0.0.1"
        assert event.message is not None
        assert f"{verb} password for {user} from 127.0.0.1" in event.message
        assert event.message.strip() in written, "message is the raw line sshd wrote"
        assert event.event.category == ["authentication"]
    assert sequence_faults(reader.events) == []
