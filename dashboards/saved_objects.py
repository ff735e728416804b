"""Builders for Kibana saved objects (data views, classic visualizations, saved searches, dashboards).

The objects target the oldest Kibana we support, 8.8: ``coreMigrationVersion`` 8.8.0 and, per type, the
``typeMigrationVersion`` that version writes. Kibana migrates them forward on import (8.x and 9.x); it
never imports objects from a newer version than itself. Every id is fixed, so a re-import with
``overwrite=true`` replaces instead of duplicating.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSION = {
    "index-pattern": "8.0.0",
    "visualization": "8.5.0",
    "search": "8.0.0",
    "dashboard": "8.7.0",
}
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"

SavedObject = dict[str, Any]


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _object(
    kind: str, object_id: str, attributes: dict[str, Any], references: list[dict[str, str]]
) -> SavedObject:
    return {
        "type": kind,
        "id": object_id,
        "attributes": attributes,
        "references": references,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "typeMigrationVersion": TYPE_MIGRATION_VERSION[kind],
        "managed": False,
    }


def _search_source(query: str, with_index: bool) -> dict[str, str]:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        source["indexRefName"] = INDEX_REF
    return {"searchSourceJSON": _compact(source)}


def data_view(object_id: str, pattern: str, name: str, time_field: str) -> SavedObject:
    attributes = {
        "title": pattern,
        "name": name,
        "timeFieldName": time_field,
        "fields": "[]",
        "fieldAttrs": "{}",
        "fieldFormatMap": "{}",
        "runtimeFieldMap": "{}",
        "sourceFilters": "[]",
        "typeMeta": "{}",
        "allowNoIndex": True,
    }
    return _object("index-pattern", object_id, attributes, [])


@dataclass(frozen=True)
class Agg:
    """One aggregation of a classic visualization: ``kind`` is Kibana's agg type, ``schema`` its role."""

    kind: str
    schema: str
    field: str | None = None
    params: dict[str, Any] | None = None

    def as_json(self, agg_id: int) -> dict[str, Any]:
        params = dict(self.params or {})
        if self.field is not None:
            params["field"] = self.field
        if self.kind == "terms":
            params = {"size": 10, "order": "desc", "orderBy": "1", "otherBucket": False, **params}
        if self.kind == "date_histogram":
            params = {"interval": "auto", "min_doc_count": 1, "extended_bounds": {}, **params}
        return {
            "id": str(agg_id),
            "enabled": True,
            "type": self.kind,
            "params": params,
            "schema": self.schema,
        }


def count() -> Agg:
    return Agg("count", "metric")


def _axes_params(chart: str) -> dict[str, Any]:
    return {
        "type": chart,
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "grid": {"categoryLines": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                "title": {"text": "Count"},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": "histogram" if chart == "histogram" else "line",
                "mode": "stacked",
                "data": {"label": "Count", "id": "1"},
                "valueAxis": "ValueAxis-1",
            }
        ],
        "times": [],
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    }


VIS_PARAMS: dict[str, dict[str, Any]] = {
    "table": {
        "perPage": 10,
        "showPartialRows": False,
        "showMetricsAtAllLevels": False,
        "showTotal": False,
        "totalFunc": "sum",
        "percentageCol": "",
    },
    "metric": {
        "addTooltip": True,
        "addLegend": False,
        "type": "metric",
        "metric": {
            "percentageMode": False,
            "useRanges": False,
            "colorSchema": "Green to Red",
            "metricColorMode": "None",
            "colorsRange": [{"from": 0, "to": 10000}],
            "labels": {"show": True},
            "invertColors": False,
            "style": {"bgFill": "#000", "bgColor": False, "labelColor": False, "subText": "", "fontSize": 36},
        },
    },
    "pie": {
        "type": "pie",
        "addTooltip": True,
        "legendDisplay": "show",
        "legendPosition": "right",
        "isDonut": True,
        "labels": {"show": True, "values": True, "last_level": True, "truncate": 100},
    },
    "histogram": _axes_params("histogram"),
}


def visualization(
    object_id: str, title: str, chart: str, data_view_id: str, aggs: Sequence[Agg], query: str = ""
) -> SavedObject:
    """A classic visualization (``histogram``, ``table``, ``metric`` or ``pie``) over one data view."""
    vis_state = {
        "title": title,
        "type": chart,
        "aggs": [agg.as_json(number) for number, agg in enumerate(aggs, start=1)],
        "params": VIS_PARAMS[chart],
    }
    attributes = {
        "title": title,
        "description": "",
        "visState": _compact(vis_state),
        "uiStateJSON": "{}",
        "version": 1,
        "kibanaSavedObjectMeta": _search_source(query, with_index=True),
    }
    return _object(
        "visualization",
        object_id,
        attributes,
        [{"name": INDEX_REF, "type": "index-pattern", "id": data_view_id}],
    )


def saved_search(
    object_id: str,
    title: str,
    data_view_id: str,
    columns: Sequence[str],
    sort: tuple[str, str],
    query: str = "",
) -> SavedObject:
    attributes = {
        "title": title,
        "description": "",
        "columns": list(columns),
        "sort": [list(sort)],
        "hits": 0,
        "grid": {},
        "hideChart": False,
        "version": 1,
        "kibanaSavedObjectMeta": _search_source(query, with_index=True),
    }
    return _object(
        "search", object_id, attributes, [{"name": INDEX_REF, "type": "index-pattern", "id": data_view_id}]
    )


@dataclass(frozen=True)
class Panel:
    """A saved visualization or search placed on the dashboard grid (48 columns wide)."""

    saved_object: SavedObject
    x: int
    y: int
    w: int
    h: int


def dashboard(object_id: str, title: str, description: str, panels: Sequence[Panel]) -> SavedObject:
    panels_json, references = [], []
    for number, panel in enumerate(panels, start=1):
        index = str(number)
        panels_json.append(
            {
                "version": CORE_MIGRATION_VERSION,
                "type": panel.saved_object["type"],
                "gridData": {"x": panel.x, "y": panel.y, "w": panel.w, "h": panel.h, "i": index},
                "panelIndex": index,
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{index}",
            }
        )
        references.append(
            {"name": f"panel_{index}", "type": panel.saved_object["type"], "id": panel.saved_object["id"]}
        )
    attributes = {
        "title": title,
        "description": description,
        "panelsJSON": _compact(panels_json),
        "optionsJSON": _compact({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
        "timeRestore": True,
        "timeFrom": "now-7d",
        "timeTo": "now",
        "refreshInterval": {"pause": False, "value": 60000},
        "version": 1,
        "kibanaSavedObjectMeta": _search_source("", with_index=False),
    }
    return _object("dashboard", object_id, attributes, references)


def to_ndjson(objects: Sequence[SavedObject]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in objects)
