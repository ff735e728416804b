"""Index templates this store owns: incidents, audit, agents, tokens. (The alert sink owns the alerts
template; this store's alert queries rely on its keyword ids/statuses, ``message`` as text and
``rule.name.text``.)

Mappings are explicit so ids and statuses are exact-match ``keyword`` fields, times are ``date`` and prose is
``text`` with a ``keyword`` sub-field. ``dynamic: false`` keeps any extra field in ``_source`` without
letting it change the mapping.
"""

from __future__ import annotations

from typing import Any

from collector.store.naming import IndexNames

KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
DATE: dict[str, Any] = {"type": "date"}
TEXT: dict[str, Any] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}
OPAQUE: dict[str, Any] = {"type": "object", "enabled": False}
TEMPLATE_PRIORITY = 300
"""Above a catch-all ``<prefix>*`` template, should an operator add one."""


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"properties": properties}


_ID_NAME = _object(id=KEYWORD, name=KEYWORD)

INCIDENT_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": KEYWORD,
        "title": TEXT,
        "status": KEYWORD,
        "priority": KEYWORD,
        "priority_rank": {"type": "byte"},
        "priority_reason": {"type": "text"},
        "level": KEYWORD,
        "severity": {"type": "short"},
        "organization": _ID_NAME,
        "host": _ID_NAME,
        "rule": _object(id=KEYWORD, name=TEXT),
        "system": _object(name=KEYWORD, security_level={"type": "byte"}),
        "grouping": _object(
            reason={"type": "text"},
            key=OPAQUE,
            key_text=KEYWORD,
            window_start=DATE,
            window_end=DATE,
            window_s={"type": "integer"},
        ),
        "alert_ids": KEYWORD,
        "alert_count": {"type": "integer"},
        "first_alert_at": DATE,
        "last_alert_at": DATE,
        "created": DATE,
        "updated": DATE,
        "acknowledged_at": DATE,
        "investigating_at": DATE,
        "resolved_at": DATE,
        "time_to_acknowledge_s": {"type": "double"},
        "time_to_resolve_s": {"type": "double"},
        "assignee": KEYWORD,
        "reopen_count": {"type": "integer"},
        "comments": _object(id=KEYWORD, author=KEYWORD, at=DATE, text=TEXT),
        "history": _object(
            at=DATE, actor=KEYWORD, action=KEYWORD, from_value=KEYWORD, to_value=KEYWORD, reason=TEXT
        ),
    },
}

AUDIT_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "@timestamp": DATE,
        "message": TEXT,
        "event": _object(
            id=KEYWORD, kind=KEYWORD, category=KEYWORD, type=KEYWORD, action=KEYWORD, dataset=KEYWORD
        ),
        "user": _object(name=KEYWORD, roles=KEYWORD),
        "organization": _object(id=KEYWORD),
        "canhgac": _object(
            audit=_object(
                object_type=KEYWORD,
                object_id=KEYWORD,
                from_value=KEYWORD,
                to_value=KEYWORD,
                reason=TEXT,
            )
        ),
    },
}

AGENT_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "agent": _object(id=KEYWORD, name=KEYWORD, version=KEYWORD),
        "host": _object(id=KEYWORD, name=KEYWORD, hostname=KEYWORD, ip=KEYWORD),
        "organization": _ID_NAME,
        "system": _object(name=KEYWORD, security_level={"type": "byte"}),
        "last_seen": DATE,
        "interval_s": {"type": "double"},
        "status": KEYWORD,
        "health": OPAQUE,
        "spool": _object(depth={"type": "long"}, bytes={"type": "long"}, dropped={"type": "long"}),
        "silence": _object(since=DATE, alert_id=KEYWORD),
    },
}

TOKEN_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": KEYWORD,
        "name": KEYWORD,
        "role": KEYWORD,
        "agency": KEYWORD,
        "sha256": {"type": "keyword", "index": False},
        "created": DATE,
        "created_by": KEYWORD,
        "revoked_at": DATE,
        "revoked_by": KEYWORD,
    },
}


def templates(names: IndexNames) -> dict[str, dict[str, Any]]:
    """Composable index templates by name."""
    single_shard = {"number_of_shards": 1, "number_of_replicas": 0, "auto_expand_replicas": "0-1"}
    layout = {
        "incidents": ([names.incidents], INCIDENT_MAPPING),
        "audit": ([names.audit_pattern], AUDIT_MAPPING),
        "agents": ([names.agents], AGENT_MAPPING),
        "tokens": ([names.tokens], TOKEN_MAPPING),
    }
    return {
        f"{names.prefix}{kind}": {
            "index_patterns": patterns,
            "priority": TEMPLATE_PRIORITY,
            "template": {"settings": {"index": single_shard}, "mappings": mapping},
            "_meta": {"owner": "canhgac collector.store"},
        }
        for kind, (patterns, mapping) in layout.items()
    }
