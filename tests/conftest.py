"""Fixtures shared by every test: the real local stack, started (or reused) once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.es import EsAccess

REPO = Path(__file__).resolve().parents[1]
STACK_SCRIPT = REPO / "deploy" / "stack" / "stack.py"
SIGMAHQ = REPO.parent / "shared" / "sigmahq"


@dataclass(frozen=True)
class Stack:
    """A running Kafka + Elasticsearch on loopback. Tests that stop a service must start it again."""

    name: str
    kafka_bootstrap: str
    es_url: str
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
    """The test stack (name ``test``, its own ports); left running at the end so the next run starts fast."""
    name = os.environ.get("CANHGAC_TEST_STACK", "test")
    result = subprocess.run(
        [sys.executable, str(STACK_SCRIPT), "up", "--name", name, "--json"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    settings = json.loads(result.stdout)
    es_keys = ("ca_file", "es_auth", "es_users")
    return Stack(
        name=name,
        kafka_bootstrap=settings["kafka_bootstrap"],
        es_url=settings["es_url"],
        es_settings={key: settings[key] for key in es_keys if key in settings},
    )


@pytest.fixture(scope="session")
def sigmahq() -> Path:
    """The SigmaHQ snapshot beside the checkout; tests that need it skip when it is absent."""
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ snapshot not found at {SIGMAHQ} (../shared/sigmahq beside the checkout)")
    return SIGMAHQ
