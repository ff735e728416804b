"""Helpers for the API unit tests: alert documents and an API over the in-memory store."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from collector.api.rules import FailedRule, LoadedRule, RulesSnapshot
from collector.incidents.alert_document import alert_document
from collector.store.memory import InMemoryStore

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
_serial = itertools.count()


def make_alert(
    agency: str = "agency-a", *, minute: int = 5, level: str = "high", host: str = "host-1"
) -> dict[str, Any]:
    return alert_document(
        alert_id=f"alert-{agency}-{next(_serial)}",
        timestamp=T0 + timedelta(minutes=minute),
        created=T0 + timedelta(minutes=minute, seconds=1),
        rule={"id": "rule-ssh", "name": "SSH brute force"},
        level=level,
        summary=f"failures on {host}",
        host={"id": f"{agency}-{host}", "name": f"{host}.{agency}"},
        organization={"id": agency, "name": agency.upper()},
        system={"name": "mail", "security_level": 3},
    )


@dataclass
class Api:
    app: FastAPI
    store: InMemoryStore
    tokens: dict[str, str]

    def client(self, address: str = "10.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://api.test")

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def rules_snapshot() -> RulesSnapshot:
    return RulesSnapshot(
        loaded=[LoadedRule(id="rule-ssh", title="SSH brute force", level="high")],
        failed=[
            FailedRule(source="rules/broken.yml", reason="condition references unknown identifier 'sel'")
        ],
    )
