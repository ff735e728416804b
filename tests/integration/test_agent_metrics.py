"""A real agent process with ``metrics.enabled`` serves figures that follow its deliveries to Kafka."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.agent_harness import create_topic, read_topic
from tests.integration.test_agent_delivery import HARNESS, REPO, config_document
from tests.support.net import free_port

pytestmark = pytest.mark.integration
COUNT = 150


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_agent_metrics_follow_capture_and_delivery(stack, tmp_path: Path) -> None:
    topic = f"t{uuid.uuid4().hex[:8]}.events"
    asyncio.run(create_topic(stack.kafka, topic))
    port = free_port()
    document = config_document(stack.kafka, topic, tmp_path / "state")
    document["metrics"] = {"enabled": True, "port": port}
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump(document))
    log = (tmp_path / "agent.log").open("wb")
    agent = subprocess.Popen(
        [sys.executable, str(HARNESS), "--config", str(config), "--rate", "300", "--count", str(COUNT)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                found = scrape(port)
            except OSError:
                found = {}
            captured = found.get(("canhgac_agent_events_captured_total", (("sensor", "counting"),)), 0)
            delivered = found.get(("canhgac_agent_events_delivered_total", ()), -1)
            spooled = found.get(("canhgac_agent_events_spooled_total", ()), 0)
            if captured == COUNT and delivered == spooled:
                break
            time.sleep(0.3)
        logs = (tmp_path / "agent.log").read_text(errors="replace")[-3000:]
        assert found.get(("canhgac_agent_events_captured_total", (("sensor", "counting"),))) == COUNT, logs
        assert found[("canhgac_agent_kafka_connected", ())] == 1
        assert found[("canhgac_agent_events_dropped_total", ())] == 0
        assert found[("canhgac_agent_sensor_status", (("sensor", "counting"), ("status", "ok")))] == 1
        assert found[("canhgac_agent_sensor_status", (("sensor", "heartbeat"), ("status", "ok")))] == 1
        delivered = found[("canhgac_agent_events_delivered_total", ())]
        spooled = found[("canhgac_agent_events_spooled_total", ())]
        assert delivered == spooled >= COUNT  # the synthetic events plus heartbeats, all acknowledged
        assert found[("canhgac_agent_spool_depth", ())] >= 0
        in_kafka = asyncio.run(read_topic(stack.kafka, topic))
        assert len(in_kafka) >= delivered
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    with pytest.raises(urllib.error.URLError, match="refused"):  # the endpoint goes away with the agent
        scrape(port)
