"""Fixtures shared by every test: the real local stack, started (or reused) once per session."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.es import EsAccess
from tests.support.kafka import KafkaAccess
from tests.support.leftovers import remove_stale_test_data

REPO = Path(__file__).resolve().parents[1]
STACK_SCRIPT = REPO / "deploy" / "stack" / "stack.py"
SIGMAHQ = REPO.parent / "shared" / "sigmahq"


@dataclass(frozen=True)
class Stack:
    """A running Kafka + Elasticsearch on loopback. Tests that stop a service must start it again."""

    name: str
    kafka_bootstrap: str
    es_url: str
    # The whole ``stack.py up --json`` document: CA file, Kafka credentials of the super user and the others.
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def kafka(self) -> KafkaAccess:
        """The Kafka super user (admin): creates topics, reads anything; what most tests use."""
        return KafkaAccess.from_connection(self.settings)

    def kafka_as(self, user: str) -> KafkaAccess:
        """Another SCRAM user of the stack, e.g. ``collector`` (or an ``agent-NAME`` added by add-agent)."""
        return KafkaAccess.from_connection(self.settings, user)

    def kafka_client_kwargs(self, user: str | None = None) -> dict[str, Any]:
        """aiokafka keyword arguments (bootstrap, TLS, SASL) for the super user or ``user``."""
        access = self.kafka if user is None else self.kafka_as(user)
        return access.client_kwargs()

    def add_agent(self, agent: str, topic: str | None = None) -> KafkaAccess:
        """A Kafka principal ``agent-AGENT`` that may produce to ``topic`` (default the events topic)."""
        command = [sys.executable, str(STACK_SCRIPT), "add-agent", "--name", self.name, agent]
        command += ["--topic", topic] if topic else []
        result = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        credentials = json.loads(result.stdout)
        return self.kafka.as_user(credentials["username"], credentials["password"])

    es_settings: dict[str, Any] = field(default_factory=dict, repr=False)
    """``stack.py up --json``'s Elasticsearch part: ``ca_file``, ``es_auth``, ``es_users`` (passwords)."""

    @property
    def ca_file(self) -> str | None:
        return self.es_settings.get("ca_file")

    @property
    def es(self) -> EsAccess:
        """Elasticsearch as the superuser ``elastic`` (over TLS, trusting the stack CA)."""
        return EsAccess.from_stack({"es_url": self.es_url, **self.es_settings})

    def es_as(self, user: str) -> EsAccess:
        """Elasticsearch as a least-privilege user of the stack: ``collector``, ``api`` or ``analyst``."""
        return EsAccess.from_stack({"es_url": self.es_url, **self.es_settings}, user)

    def es_client_kwargs(self, user: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``AsyncElasticsearch(stack.es_url, **...)`` (superuser by default)."""
        return (self.es if user is None else self.es_as(user)).client_kwargs()

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
    """The test stack (name ``test``, its own ports); left running at the end so the next run starts fast,
    with what earlier runs left in Elasticsearch removed (:mod:`tests.support.leftovers`)."""
    name = os.environ.get("CANHGAC_TEST_STACK", "test")
    result = subprocess.run(
        [sys.executable, str(STACK_SCRIPT), "up", "--name", name, "--json"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    settings = json.loads(result.stdout)
    es_keys = ("ca_file", "es_auth", "es_users")
    stack = Stack(
        name=name,
        kafka_bootstrap=settings["kafka_bootstrap"],
        es_url=settings["es_url"],
        settings=settings,
        es_settings={key: settings[key] for key in es_keys if key in settings},
    )
    # Indices left by earlier runs' failed or killed tests would add up to Elasticsearch's shard limit.
    asyncio.run(remove_stale_test_data(stack.es))
    return stack


@pytest.fixture(scope="session")
def sigmahq() -> Path:
    """The SigmaHQ snapshot beside the checkout; tests that need it skip when it is absent."""
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ snapshot not found at {SIGMAHQ} (../shared/sigmahq beside the checkout)")
    return SIGMAHQ
