"""The runtime end to end in memory: sensors → queue → enrich → spool → (recording) publisher."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from agent.config import AgentConfig
from agent.delivery import Backoff
from agent.identity import Identity
from agent.runtime import AgentRuntime
from agent.sensors.base import Observation
from agent.spool import SPOOL_FILE, Spool
from agent.spool_thread import AsyncSpool
from event_contract import AuthenticationEvent, HeartbeatEvent, decode_event
from event_contract.wire_types import SensorHealthWire as SensorHealth
from tests.unit.agent.runtime_fixtures import RecordingPublisher, eventually, login_observation


class ScriptedSensor:
    """Yields the given observations (raising any exception among them), then waits to be cancelled."""

    def __init__(self, name: str, script: list[Observation | Exception]) -> None:
        self.name = name
        self._script = list(script)

    async def observe(self) -> AsyncIterator[Observation]:
        while self._script:
            step = self._script.pop(0)
            if isinstance(step, Exception):
                raise step
            yield step
        await asyncio.Event().wait()

    def health(self) -> SensorHealth:
        return SensorHealth(status="ok")


def open_spool(config: AgentConfig) -> AsyncSpool:
    return AsyncSpool(
        Spool(
            config.state_dir / SPOOL_FILE, config.spool.max_rows, config.spool.max_bytes, config.spool.policy
        )
    )


async def run_until(runtime: AgentRuntime, done: Callable[[], bool], limit_s: float = 5.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    try:
        await eventually(done, limit_s)
    finally:
        stop.set()
        await asyncio.wait_for(task, limit_s + 5)


async def test_observations_arrive_enriched_in_order_with_a_heartbeat(
    agent_config: AgentConfig, identity: Identity
) -> None:
    sensor = ScriptedSensor("login", [login_observation(f"user{n}") for n in range(20)])
    publisher = RecordingPublisher()
    runtime = AgentRuntime(agent_config, identity, [sensor], open_spool(agent_config), publisher)

    await run_until(runtime, lambda: len(publisher.delivered) >= 21)

    events = [decode_event(row.payload) for row in publisher.delivered]
    assert [event.event.sequence for event in events] == list(range(1, len(events) + 1))
    users = [e.user.name for e in events if isinstance(e, AuthenticationEvent) and e.user is not None]
    assert users == [f"user{n}" for n in range(20)]
    heartbeat = next(e for e in events if isinstance(e, HeartbeatEvent))
    assert heartbeat.canhgac.health is not None
    assert set(heartbeat.canhgac.health.sensors) == {"login", "heartbeat"}
    assert heartbeat.canhgac.health.spool.policy == "drop_oldest"
    assert runtime.counters.get("login.observed") == 20
    assert runtime.counters.get("spool.spooled") == 21


async def test_invalid_observation_is_counted_and_the_rest_go_on(
    agent_config: AgentConfig, identity: Identity
) -> None:
    bad = login_observation(fields={"source": {"port": -1}})
    sensor = ScriptedSensor("login", [login_observation("a"), bad, login_observation("b")])
    publisher = RecordingPublisher()
    runtime = AgentRuntime(agent_config, identity, [sensor], open_spool(agent_config), publisher)

    await run_until(runtime, lambda: len(publisher.delivered) >= 3)

    assert runtime.counters.get("login.invalid") == 1
    events = [decode_event(row.payload) for row in publisher.delivered]
    assert [e.event.sequence for e in events] == [1, 2, 3]  # the rejected one took no number


async def test_failing_sensor_is_reported_and_restarted(
    agent_config: AgentConfig, identity: Identity
) -> None:
    sensor = ScriptedSensor("process", [RuntimeError("netlink socket closed"), login_observation("after")])
    publisher = RecordingPublisher()
    runtime = AgentRuntime(
        agent_config,
        identity,
        [sensor],
        open_spool(agent_config),
        publisher,
        sensor_backoff=Backoff(initial_s=0.3, maximum_s=0.3),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.sleep(0.1)

    during_backoff = runtime.health().sensors["process"]
    await eventually(lambda: runtime.counters.get("process.observed") >= 1)
    after_restart = runtime.health().sensors["process"]
    stop.set()
    await asyncio.wait_for(task, 5)

    assert during_backoff.status == "failed"
    assert during_backoff.detail == "RuntimeError: netlink socket closed"
    assert after_restart.status == "ok"
    assert runtime.counters.get("process.errors") == 1


async def test_stop_with_kafka_down_keeps_events_in_the_spool_and_returns_in_time(
    agent_config: AgentConfig, identity: Identity
) -> None:
    sensor = ScriptedSensor("login", [login_observation(f"u{n}") for n in range(5)])
    publisher = RecordingPublisher(refuse_starts=10**6)
    runtime = AgentRuntime(agent_config, identity, [sensor], open_spool(agent_config), publisher)
    started = time.monotonic()

    await run_until(runtime, lambda: runtime.counters.get("spool.spooled") >= 6, limit_s=3)

    assert time.monotonic() - started < 3 + agent_config.pipeline.drain_timeout_s + 1
    reopened = Spool(agent_config.state_dir / SPOOL_FILE, 100, 10**6, "drop_oldest")
    assert [row.sequence for row in reopened.read(100)] == [1, 2, 3, 4, 5, 6]


async def test_graceful_stop_spools_what_was_queued(agent_config: AgentConfig, identity: Identity) -> None:
    sensor = ScriptedSensor("login", [login_observation(f"u{n}") for n in range(200)])
    publisher = RecordingPublisher()
    runtime = AgentRuntime(agent_config, identity, [sensor], open_spool(agent_config), publisher)

    await run_until(runtime, lambda: runtime.counters.get("login.observed") >= 200)

    observed = runtime.counters.get("login.observed") + runtime.counters.get("heartbeat.observed")
    assert runtime.counters.get("spool.spooled") == observed
    assert len(publisher.delivered) == observed


def test_health_lists_every_sensor(agent_config: AgentConfig, identity: Identity) -> None:
    runtime = AgentRuntime(
        agent_config, identity, [ScriptedSensor("login", [])], open_spool(agent_config), RecordingPublisher()
    )
    health = runtime.health()

    assert health.interval_s == agent_config.heartbeat.interval_s
    assert health.sensors["login"].status == "ok"
    assert health.counters["kafka.connected"] == 0
