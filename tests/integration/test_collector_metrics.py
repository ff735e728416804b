"""``canhgac-collector run`` serves Prometheus metrics that follow what the pipeline really did."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.collector_harness import CollectorRun, wait_for_documents
from tests.support.events import encoded, process_exec
from tests.support.net import free_port

pytestmark = pytest.mark.integration

RULE = """
title: Interactive shell started by a web server user
id: 0f4bd3c5-7a6e-4c39-9a2f-1d3c5b7e9a01
status: test
level: high
logsource: {product: linux, category: process_creation}
detection:
  selection:
    User: www-data
    CommandLine|contains: ' -i'
  condition: selection
"""


@dataclass
class MeteredRun(CollectorRun):
    metrics_port: int = 0

    def config_file(self) -> Path:
        path = super().config_file()
        config = yaml.safe_load(path.read_text())
        config["metrics"] = {"host": "127.0.0.1", "port": self.metrics_port}
        # The collector user's real password, read from a file at start: it must not leak.
        access = self.collector_es or self.es
        secret = self.workdir / "es.password"
        secret.write_text(f"{access.password}\n")
        config["elasticsearch"].pop("password", None)
        config["elasticsearch"] |= {"username": access.username, "password_file": str(secret)}
        path.write_text(yaml.safe_dump(config))
        return path


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def until(port: int, check, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    while time.monotonic() < deadline:
        try:
            samples = scrape(port)
        except OSError:
            samples = {}
        if samples and check(samples):
            return samples
        await asyncio.sleep(0.5)
    return samples


async def test_metrics_count_consumed_dead_lettered_alerts_lag_and_commits(stack, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "shell.yml").write_text(RULE)
    port = free_port()
    run = MeteredRun(stack.kafka, stack.es, rules, tmp_path, metrics_port=port)
    await run.create_topics(partitions=2)
    process = run.start_collector()
    try:
        shell = process_exec("/bin/bash", "bash -i", host="portal01")
        benign = [process_exec("/usr/bin/ls", f"ls /srv/{i}", host="portal01") for i in range(9)]
        messages = [(b"portal01", encoded(event)) for event in [shell, *benign]]
        messages += [(b"bad", b"{not json"), (b"bad", b"[]")]
        await run.produce(messages)
        await wait_for_documents(run.es, f"{run.prefix}alerts-*", 1)

        samples = await until(
            port,
            lambda s: (
                value(s, "canhgac_collector_events_indexed_total", stage="events") >= 10
                and value(s, "canhgac_collector_last_commit_timestamp_seconds", topic=run.events_topic) > 0
                and any(name == "canhgac_collector_consumer_lag" for name, _ in s)
            ),
        )
        assert value(samples, "canhgac_collector_consumed_total", stage="events") == 12, run.logs()
        assert value(samples, "canhgac_collector_dead_lettered_total", stage="events") == 2
        assert value(samples, "canhgac_collector_events_indexed_total", stage="events") == 10
        assert value(samples, "canhgac_collector_alerts_created_total", stage="events") == 1
        assert value(samples, "canhgac_collector_rules_loaded", kind="rule") == 1
        assert value(samples, "canhgac_collector_rules_loaded", kind="correlation") == 0
        assert value(samples, "canhgac_collector_write_retries_total", stage="events") == 0
        # Every record consumed: nothing left behind on either partition.
        for partition in ("0", "1"):
            lag = ("canhgac_collector_consumer_lag", (("partition", partition), ("topic", run.events_topic)))
            assert samples.get(lag, 0.0) == 0, samples
        committed = value(samples, "canhgac_collector_last_commit_timestamp_seconds", topic=run.events_topic)
        assert time.time() - 120 < committed <= time.time()
        assert value(samples, "canhgac_collector_step_seconds_count", stage="events", step="detect") >= 1
        assert value(samples, "canhgac_collector_es_write_seconds_count", family="alerts") >= 1
        assert value(samples, "canhgac_collector_es_write_seconds_count", family="events") >= 1
        assert all(str(run.es.password) not in str(key) for key in samples)
    finally:
        run.stop_all()
    assert process.returncode == 0, run.logs()
    logged = (tmp_path / "collector-0.log").read_text(errors="replace")
    assert "collector running" in logged
    assert str(run.es.password) not in logged
