"""Where incidents, alerts, audit entries, agents and tokens are kept.

:mod:`collector.store.protocol` states what a store promises; :mod:`collector.store.memory` keeps it in a
process (unit tests, demos) and :mod:`collector.store.elastic` in Elasticsearch. One contract test suite
runs over both.
"""

from collector.store.errors import AlreadyExists, StoreUnavailable, VersionConflict
from collector.store.naming import IndexNames
from collector.store.protocol import (
    AgentStore,
    AlertStore,
    AuditLog,
    IncidentStore,
    Store,
    TokenStore,
)
from collector.store.records import AlertFilter, AuditFilter, IncidentFilter, Page, Versioned

__all__ = [
    "AgentStore",
    "AlertFilter",
    "AlertStore",
    "AlreadyExists",
    "AuditFilter",
    "AuditLog",
    "IncidentFilter",
    "IncidentStore",
    "IndexNames",
    "Page",
    "Store",
    "StoreUnavailable",
    "TokenStore",
    "VersionConflict",
    "Versioned",
]
