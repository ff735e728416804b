"""Two real collector processes sharing one consumer group, each slot restartable after ``kill -9``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from tests.faults.checker import Target, Verdict

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "rules" / "pipelines" / "linux-ecs.yml"
SLOTS = 2
TRACEBACK = re.compile(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)+.*")
BAD_INPUT = re.compile(r"decod|dead_letter|orjson|ValidationError|RecursionError|MessageSizeTooLarge")
"""A traceback through the decoding or dead-letter path means bad input hurt the collector."""


class CollectorPair:
    """Slots 0 and 1, each at most one live process. A process must live until it is killed or stopped
    on purpose; one that exits on its own is recorded as a crash."""

    def __init__(self, target: Target, rules_dir: Path, workdir: Path, keyring: Path | None = None) -> None:
        self._target = target
        self._keyring = keyring
        self._rules_dir = rules_dir
        self._workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._processes: list[subprocess.Popen[bytes] | None] = [None] * SLOTS
        self._starts = 0
        self._crashes: list[str] = []
        self._stop_codes: list[int] = []

    def _config(self) -> Path:
        path = self._workdir / "collector.yaml"
        if not path.exists():
            self._workdir.mkdir(parents=True, exist_ok=True)
            document = {
                "kafka": (self._target.collector_kafka or self._target.kafka).config()
                | {
                    "events_topic": self._target.events_topic,
                    "dead_letter_topic": self._target.dead_letter_topic,
                    "correlation_topic": self._target.events_topic.replace(".events", ".correlation"),
                    "group_id": self._target.group_id,
                    "poll_timeout_ms": 100,
                    "max_batch": 500,
                },
                "elasticsearch": self._target.es.collector_section(self._target.index_prefix),
                "detection": {"rules": [str(self._rules_dir)], "pipeline": str(PIPELINE)},
            }
            if self._keyring is not None:
                document["origin"] = {"keyring": str(self._keyring)}
            path.write_text(yaml.safe_dump(document), encoding="utf-8")
        return path

    def start(self, slot: int) -> None:
        self._check(slot)
        log = (self._workdir / f"collector-{self._starts:03d}-slot{slot}.log").open("ab")
        self._starts += 1
        self._processes[slot] = subprocess.Popen(
            [sys.executable, "-m", "collector.cli", "run", "--config", str(self._config())],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()

    def start_all(self) -> None:
        for slot in range(SLOTS):
            self.start(slot)

    def _check(self, slot: int) -> None:
        process = self._processes[slot]
        if process is not None and process.poll() is not None:
            self._crashes.append(f"collector slot {slot} exited with {process.returncode} unprompted")
            self._processes[slot] = None

    def kill(self, slot: int) -> None:
        """``kill -9``."""
        self._check(slot)
        process = self._processes[slot]
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            self._processes[slot] = None

    def stop_all(self) -> None:
        for slot in range(SLOTS):
            self._check(slot)
            process = self._processes[slot]
            if process is not None:
                process.send_signal(signal.SIGTERM)
        for slot, process in enumerate(self._processes):
            if process is None:
                continue
            try:
                self._stop_codes.append(process.wait(40))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                self._crashes.append(f"collector slot {slot} ignored SIGTERM for 40 s")
            self._processes[slot] = None

    def crashes(self) -> list[str]:
        for slot in range(SLOTS):
            self._check(slot)
        traces = [
            match.group(0)[-600:]
            for match in TRACEBACK.finditer(self.logs())
            if BAD_INPUT.search(match.group(0))
        ]
        return self._crashes + [f"collector traceback from bad input: {trace}" for trace in traces]

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self._workdir.glob("*.log")))

    def judge_rule_report(self, verdict: Verdict, hostile_files: Mapping[str, str]) -> None:
        """Every collector that got as far as loading its rules reports each hostile rule file by name
        and loads the good ones (a collector killed during start-up may not have got there)."""
        loaded = 0
        for log in sorted(self._workdir.glob("*.log")):
            text = log.read_text(errors="replace")
            if "correlations" not in text or " loaded " not in text:
                continue
            loaded += 1
            refused = [line for line in text.splitlines() if "rule not loaded" in line]
            verdict.rule_files_refused = max(
                verdict.rule_files_refused,
                sum(1 for name in hostile_files if any(name in r for r in refused)),
            )
            for name in hostile_files:
                if not any(name in line for line in refused):
                    verdict.problems.append(f"{log.name}: hostile rule file {name} not reported")
            if "loaded 2 rules" not in text:
                verdict.problems.append(f"{log.name}: the two good rules did not load")
        if not loaded:
            verdict.problems.append("no collector log shows its rules loading")
