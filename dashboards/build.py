"""The SOC's Kibana objects, written to ``dashboards/*.ndjson``: ``python -m dashboards.build`` (``--check``
only compares). Import them with ``canhgac-collector dashboards import --kibana URL``.

* ``data-views.ndjson``: alerts (``canhgac-alerts-*``), events (``canhgac-events-*``), incidents
  (``canhgac-incidents``) and agents (``canhgac-agents``);
* ``overview.ndjson``: alerts over time by level, top rules, top hosts, alerts and open incidents per
  agency, time to acknowledge and to resolve, silent agents;
* ``incidents.ndjson``: the incident-handling view (open incidents, their alerts, by status and priority);
* ``fim.ndjson``: what changed on which portal (file events by host, path and action).

Field names are the ones the collector's index mappings declare; ``tests/unit/dashboards`` checks each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboards.saved_objects import (
    Agg,
    Panel,
    SavedObject,
    count,
    dashboard,
    data_view,
    saved_search,
    to_ndjson,
    visualization,
)

HERE = Path(__file__).resolve().parent
ALERTS, EVENTS, INCIDENTS, AGENTS = "canhgac-alerts", "canhgac-events", "canhgac-incidents", "canhgac-agents"
SILENT_AGENT_RULE = "canhgac-agent-silent"
OPEN_INCIDENTS = "status:(new or acknowledged or investigating)"


def data_views() -> list[SavedObject]:
    return [
        data_view(ALERTS, "canhgac-alerts-*", "Canh Gác alerts", "@timestamp"),
        data_view(EVENTS, "canhgac-events-*", "Canh Gác events", "@timestamp"),
        data_view(INCIDENTS, "canhgac-incidents", "Canh Gác incidents", "created"),
        data_view(AGENTS, "canhgac-agents", "Canh Gác agents", "last_seen"),
    ]


def terms(field: str, schema: str = "bucket", size: int = 10) -> Agg:
    return Agg("terms", schema, field, {"size": size})


def overview() -> list[SavedObject]:
    over_time = visualization(
        "canhgac-vis-alerts-over-time",
        "Alerts over time by level",
        "histogram",
        ALERTS,
        [count(), Agg("date_histogram", "segment", "@timestamp"), terms("canhgac.alert.level", "group", 5)],
    )
    top_rules = visualization(
        "canhgac-vis-top-rules", "Top rules", "table", ALERTS, [count(), terms("rule.name", size=15)]
    )
    top_hosts = visualization(
        "canhgac-vis-top-hosts",
        "Top hosts",
        "table",
        ALERTS,
        [count(), terms("host.name", size=15), terms("organization.name", size=1)],
    )
    per_agency = visualization(
        "canhgac-vis-alerts-per-agency",
        "Alerts per agency",
        "table",
        ALERTS,
        [count(), terms("organization.name", size=30), terms("canhgac.alert.status", size=5)],
    )
    open_incidents = visualization(
        "canhgac-vis-open-incidents-per-agency",
        "Open incidents per agency",
        "table",
        INCIDENTS,
        [count(), terms("organization.name", size=30), terms("priority", size=4)],
        query=OPEN_INCIDENTS,
    )
    response_times = visualization(
        "canhgac-vis-response-times",
        "Time to acknowledge and to resolve (s)",
        "metric",
        INCIDENTS,
        [
            Agg("avg", "metric", "time_to_acknowledge_s", {"customLabel": "mean time to acknowledge (s)"}),
            Agg("percentiles", "metric", "time_to_acknowledge_s", {"percents": [50, 90]}),
            Agg("avg", "metric", "time_to_resolve_s", {"customLabel": "mean time to resolve (s)"}),
            Agg("percentiles", "metric", "time_to_resolve_s", {"percents": [50, 90]}),
        ],
    )
    response_by_agency = visualization(
        "canhgac-vis-response-times-per-agency",
        "Response times per agency (s)",
        "table",
        INCIDENTS,
        [
            Agg("avg", "metric", "time_to_acknowledge_s", {"customLabel": "acknowledge (s)"}),
            Agg("avg", "metric", "time_to_resolve_s", {"customLabel": "resolve (s)"}),
            terms("organization.name", size=30),
        ],
    )
    silent_alerts = visualization(
        "canhgac-vis-silent-agent-alerts",
        "Agents that went silent (alerts)",
        "table",
        ALERTS,
        [
            count(),
            terms("host.name", size=50),
            terms("organization.name", size=1),
            Agg("max", "metric", "@timestamp", {"customLabel": "last silence"}),
        ],
        query=f'rule.id:"{SILENT_AGENT_RULE}"',
    )
    silent_now = visualization(
        "canhgac-vis-silent-agents-now",
        "Agents silent now",
        "table",
        AGENTS,
        [
            Agg("max", "metric", "last_seen", {"customLabel": "last heard"}),
            terms("host.name", size=100),
            terms("organization.name", size=1),
        ],
        query="status:silent",
    )
    panels = [
        Panel(over_time, 0, 0, 32, 12),
        Panel(response_times, 32, 0, 16, 12),
        Panel(top_rules, 0, 12, 16, 14),
        Panel(top_hosts, 16, 12, 16, 14),
        Panel(per_agency, 32, 12, 16, 14),
        Panel(open_incidents, 0, 26, 16, 14),
        Panel(response_by_agency, 16, 26, 16, 14),
        Panel(silent_now, 32, 26, 16, 14),
        Panel(silent_alerts, 0, 40, 48, 12),
    ]
    board = dashboard(
        "canhgac-dashboard-overview",
        "Canh Gác — SOC overview",
        "Alerts by level, rule, host and agency; open incidents; response times; agents that went silent.",
        panels,
    )
    return [panel.saved_object for panel in panels] + [board]


def incident_handling() -> list[SavedObject]:
    open_list = saved_search(
        "canhgac-search-open-incidents",
        "Open incidents",
        INCIDENTS,
        [
            "title",
            "status",
            "priority",
            "organization.name",
            "host.name",
            "assignee",
            "alert_count",
            "last_alert_at",
        ],
        ("created", "desc"),
        query=OPEN_INCIDENTS,
    )
    open_alerts = saved_search(
        "canhgac-search-open-alerts",
        "Alerts not yet handled",
        ALERTS,
        [
            "canhgac.alert.level",
            "rule.name",
            "host.name",
            "organization.name",
            "message",
            "canhgac.alert.incident_id",
        ],
        ("@timestamp", "desc"),
        query="canhgac.alert.status:open",
    )
    by_status = visualization(
        "canhgac-vis-incidents-by-status",
        "Incidents by status",
        "pie",
        INCIDENTS,
        [count(), terms("status", "segment", 5)],
    )
    by_priority = visualization(
        "canhgac-vis-open-incidents-by-priority",
        "Open incidents by priority and assignee",
        "table",
        INCIDENTS,
        [count(), terms("priority", size=4), terms("assignee", size=20)],
        query=OPEN_INCIDENTS,
    )
    panels = [
        Panel(by_status, 0, 0, 16, 12),
        Panel(by_priority, 16, 0, 32, 12),
        Panel(open_list, 0, 12, 48, 16),
        Panel(open_alerts, 0, 28, 48, 16),
    ]
    board = dashboard(
        "canhgac-dashboard-incidents",
        "Canh Gác — incident handling",
        "Open incidents by priority, who holds them, and the alerts still waiting to be handled.",
        panels,
    )
    return [panel.saved_object for panel in panels] + [board]


def file_integrity() -> list[SavedObject]:
    file_events = 'event.dataset:"canhgac.file"'
    changes = saved_search(
        "canhgac-search-file-changes",
        "File changes on portals",
        EVENTS,
        ["host.name", "event.action", "file.path", "file.hash.sha256", "canhgac.file.classification_marking"],
        ("@timestamp", "desc"),
        query=file_events,
    )
    over_time = visualization(
        "canhgac-vis-file-changes-over-time",
        "File changes over time by action",
        "histogram",
        EVENTS,
        [count(), Agg("date_histogram", "segment", "@timestamp"), terms("event.action", "group", 6)],
        query=file_events,
    )
    by_host = visualization(
        "canhgac-vis-file-changes-by-host",
        "What changed where: host, directory, action",
        "table",
        EVENTS,
        [
            count(),
            terms("host.name", size=30),
            terms("file.directory", size=10),
            terms("event.action", size=6),
        ],
        query=file_events,
    )
    top_paths = visualization(
        "canhgac-vis-most-changed-files",
        "Most changed files",
        "table",
        EVENTS,
        [count(), terms("file.path", size=20), terms("host.name", size=3)],
        query=file_events,
    )
    panels = [
        Panel(over_time, 0, 0, 48, 10),
        Panel(by_host, 0, 10, 24, 16),
        Panel(top_paths, 24, 10, 24, 16),
        Panel(changes, 0, 26, 48, 16),
    ]
    board = dashboard(
        "canhgac-dashboard-fim",
        "Canh Gác — file integrity on portals",
        "What changed on which portal: file events by host, directory, path and action.",
        panels,
    )
    return [panel.saved_object for panel in panels] + [board]


FILES = {
    "data-views.ndjson": data_views,
    "overview.ndjson": overview,
    "incidents.ndjson": incident_handling,
    "fim.ndjson": file_integrity,
}


def rendered() -> dict[str, str]:
    return {name: to_ndjson(build()) for name, build in FILES.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the files; write nothing")
    args = parser.parse_args(argv)
    stale = [
        name
        for name, text in rendered().items()
        if not (HERE / name).is_file() or (HERE / name).read_text("utf-8") != text
    ]
    if args.check:
        for name in stale:
            print(f"dashboards/{name} is out of date: run python -m dashboards.build", file=sys.stderr)
        return 1 if stale else 0
    for name, text in rendered().items():
        (HERE / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
