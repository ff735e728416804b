"""An API over the in-memory store, with one token per role and agency."""

from __future__ import annotations

import pytest

from collector.api.app import create_app
from collector.api.roles import Role
from collector.api.settings import ApiSettings
from collector.api.tokens import issue
from collector.incidents.actor import Actor
from collector.store.memory import InMemoryStore
from tests.unit.collector.api.api_support import T0, Api, rules_snapshot


@pytest.fixture
async def api() -> Api:
    store = InMemoryStore()
    settings = ApiSettings(auth_failure_burst=5, auth_failure_refill_per_s=0.01)
    app = create_app(settings, store, rules=rules_snapshot)
    admin = Actor("setup", "admin", None)
    tokens = {}
    for who, role, agency in [
        ("viewer", Role.VIEWER, None),
        ("viewer_a", Role.VIEWER, "agency-a"),
        ("responder_a", Role.RESPONDER, "agency-a"),
        ("responder_b", Role.RESPONDER, "agency-b"),
        ("analyst", Role.ANALYST, None),
        ("admin", Role.ADMIN, None),
    ]:
        issued = await issue(store, role=role, agency=agency, name=who, by=admin, now=T0)
        tokens[who] = issued.secret
    return Api(app, store, tokens)
