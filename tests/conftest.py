"""Fixtures shared by every test: the real local stack, started (or reused) once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STACK_SCRIPT = REPO / "deploy" / "stack" / "stack.py"
SIGMAHQ = REPO.parent / "shared" / "sigmahq"


@dataclass(frozen=True)
class Stack:
    """A running Kafka + Elasticsearch on loopback. Tests that stop a service must start it again."""

    name: str
    kafka_bootstrap: str
    es_url: str

    def _run(self, command: str, service: str) -> None:
        subprocess.run(
            [sys.executable, str(STACK_SCRIPT), command, "--name", self.name, "--service", service],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop_service(self, service: str) -> None:
        self._run("down", service)

    def start_service(self, service: str) -> None:
        self._run("up", service)


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The test stack (name ``test``, its own ports); left running at the end so the next run starts fast."""
    name = os.environ.get("CANHGAC_TEST_STACK", "test")
    result = subprocess.run(
        [sys.executable, str(STACK_SCRIPT), "up", "--name", name, "--json"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    settings = json.loads(result.stdout)
    return Stack(name=name, kafka_bootstrap=settings["kafka_bootstrap"], es_url=settings["es_url"])


@pytest.fixture(scope="session")
def sigmahq() -> Path:
    """The SigmaHQ snapshot beside the checkout; tests that need it skip when it is absent."""
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ snapshot not found at {SIGMAHQ} (../shared/sigmahq beside the checkout)")
    return SIGMAHQ
