"""The Kibana saved objects in ``dashboards/`` against the collector's index mappings.

Every field a data view, visualization or saved search uses must exist in the mapping of the index its
data view points at, with a type the use needs; every reference must resolve to an object in the files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from collector.sinks.mappings import alerts_mapping, events_mapping
from collector.store.elastic_mappings import AGENT_MAPPING, INCIDENT_MAPPING
from dashboards import build

REPO = Path(__file__).resolve().parents[3]
DASHBOARDS = REPO / "dashboards"
MAPPINGS: dict[str, dict[str, Any]] = {
    "canhgac-alerts-*": alerts_mapping(),
    "canhgac-events-*": events_mapping(),
    "canhgac-incidents": INCIDENT_MAPPING,
    "canhgac-agents": AGENT_MAPPING,
}
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
AGGREGATABLE = NUMERIC | {"keyword", "date", "ip", "boolean"}
FIELD_TYPES_BY_AGG: dict[str, set[str]] = {
    "terms": AGGREGATABLE,
    "cardinality": AGGREGATABLE,
    "date_histogram": {"date"},
    "avg": NUMERIC,
    "sum": NUMERIC,
    "median": NUMERIC,
    "percentiles": NUMERIC,
    "min": NUMERIC | {"date"},
    "max": NUMERIC | {"date"},
}
SORTABLE = AGGREGATABLE
KQL_FIELD = re.compile(r"(?:^|[\s(])([A-Za-z@][\w.@]*)\s*:")


def flatten(properties: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted field name, type) for every indexed field, multi-fields included."""
    for name, spec in properties.items():
        path = prefix + name
        if "properties" in spec:
            yield from flatten(spec["properties"], path + ".")
        elif spec.get("enabled", True) and "type" in spec and spec["type"] != "object":
            yield path, spec["type"]
            for sub, sub_spec in spec.get("fields", {}).items():
                yield f"{path}.{sub}", sub_spec["type"]


FIELDS: dict[str, dict[str, str]] = {
    pattern: dict(flatten(mapping["properties"])) for pattern, mapping in MAPPINGS.items()
}


def load_objects() -> list[dict[str, Any]]:
    objects = []
    for path in sorted(DASHBOARDS.glob("*.ndjson")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert line.strip(), f"{path.name}:{number}: empty line"
            item = json.loads(line)
            assert isinstance(item, dict), f"{path.name}:{number}: not an object"
            objects.append(item)
    return objects


OBJECTS = load_objects()
BY_KEY = {(item["type"], item["id"]): item for item in OBJECTS}


def field_uses(item: Mapping[str, Any]) -> Iterator[tuple[str, set[str] | None, str]]:
    """(field, acceptable types or None for any, what uses it) for one visualization or saved search."""
    attributes = item["attributes"]
    source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
    for field in KQL_FIELD.findall(source.get("query", {}).get("query", "")):
        yield field, None, "query"
    if item["type"] == "visualization":
        for agg in json.loads(attributes["visState"])["aggs"]:
            if agg["type"] == "count":
                continue
            assert agg["type"] in FIELD_TYPES_BY_AGG, f"{item['id']}: add {agg['type']} to this test's table"
            yield agg["params"]["field"], FIELD_TYPES_BY_AGG[agg["type"]], f"{agg['type']} agg"
    if item["type"] == "search":
        for column in attributes["columns"]:
            yield column, None, "column"
        for field, _direction in attributes["sort"]:
            yield field, SORTABLE, "sort"


def data_view_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    (reference,) = [ref for ref in item["references"] if ref["type"] == "index-pattern"]
    return BY_KEY[("index-pattern", reference["id"])]


def field_problems(item: Mapping[str, Any], fields: Mapping[str, str]) -> list[str]:
    problems = []
    for field, acceptable, use in field_uses(item):
        kind = fields.get(field)
        if kind is None:
            problems.append(f"{item['id']}: {use} uses {field}, which the index mapping lacks")
        elif acceptable is not None and kind not in acceptable:
            problems.append(
                f"{item['id']}: {use} on {field} needs one of {sorted(acceptable)}, mapped as {kind}"
            )
    return problems


def test_every_line_is_a_saved_object_with_a_unique_id() -> None:
    assert len(OBJECTS) >= 20
    keys = [(item["type"], item["id"]) for item in OBJECTS]
    assert len(set(keys)) == len(keys)
    assert len({item["id"] for item in OBJECTS}) == len(OBJECTS), "ids are unique across types too"
    for item in OBJECTS:
        assert item["type"] in {"index-pattern", "visualization", "search", "dashboard"}
        assert item["attributes"]["title"]


def test_every_reference_resolves_to_an_object_in_the_files() -> None:
    for item in OBJECTS:
        for reference in item["references"]:
            assert (reference["type"], reference["id"]) in BY_KEY, f"{item['id']} -> {reference}"


def test_dashboard_panels_name_their_references() -> None:
    dashboards = [item for item in OBJECTS if item["type"] == "dashboard"]
    assert {item["id"] for item in dashboards} >= {
        "canhgac-dashboard-overview",
        "canhgac-dashboard-incidents",
        "canhgac-dashboard-fim",
    }
    for board in dashboards:
        references = {ref["name"]: ref for ref in board["references"]}
        panels = json.loads(board["attributes"]["panelsJSON"])
        assert panels
        for panel in panels:
            reference = references[panel["panelRefName"]]
            assert reference["type"] == panel["type"]
            grid = panel["gridData"]
            assert grid["x"] >= 0
            assert grid["x"] + grid["w"] <= 48


def test_data_views_cover_the_indices_with_a_date_time_field() -> None:
    views = {item["attributes"]["title"]: item for item in OBJECTS if item["type"] == "index-pattern"}
    assert set(views) == set(MAPPINGS)
    for pattern, view in views.items():
        assert FIELDS[pattern].get(view["attributes"]["timeFieldName"]) == "date", pattern


@pytest.mark.parametrize(
    "item",
    [item for item in OBJECTS if item["type"] in {"visualization", "search"}],
    ids=lambda item: str(item["id"]),
)
def test_every_field_used_exists_with_a_compatible_type(item: Mapping[str, Any]) -> None:
    pattern = data_view_of(item)["attributes"]["title"]
    assert field_problems(item, FIELDS[pattern]) == []


def test_the_field_check_rejects_a_wrong_field_and_a_wrong_type() -> None:
    # Guards the test above: terms on a text field and a field no mapping has are both caught.
    bad = json.loads(json.dumps(BY_KEY[("visualization", "canhgac-vis-top-rules")]))
    vis_state = json.loads(bad["attributes"]["visState"])
    vis_state["aggs"][1]["params"]["field"] = "message"
    vis_state["aggs"].append(
        {"id": "9", "type": "avg", "params": {"field": "rule.score"}, "schema": "metric"}
    )
    bad["attributes"]["visState"] = json.dumps(vis_state)
    problems = field_problems(bad, FIELDS["canhgac-alerts-*"])
    assert len(problems) == 2
    assert "mapped as text" in problems[0]
    assert "rule.score" in problems[1]


def test_the_overview_shows_what_the_soc_asked_for() -> None:
    overview = BY_KEY[("dashboard", "canhgac-dashboard-overview")]
    used: set[str] = set()
    for reference in overview["references"]:
        used |= {field for field, _types, _use in field_uses(BY_KEY[(reference["type"], reference["id"])])}
    assert {"@timestamp", "canhgac.alert.level", "rule.name", "host.name", "organization.name"} <= used
    assert {"status", "time_to_acknowledge_s", "time_to_resolve_s", "rule.id"} <= used


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_migration_versions_target_kibana_8_8_and_agree_per_type() -> None:
    per_type: dict[str, set[str]] = {}
    for item in OBJECTS:
        assert item["coreMigrationVersion"] == "8.8.0"
        assert "migrationVersion" not in item, "the pre-8.8 field; Kibana rejects objects with both"
        per_type.setdefault(item["type"], set()).add(item["typeMigrationVersion"])
    for kind, versions in per_type.items():
        assert len(versions) == 1, f"{kind}: {versions}"
        assert version(versions.pop()) <= (8, 8, 0), kind


def test_files_are_what_the_builder_writes() -> None:
    assert build.main(["--check"]) == 0, "run python -m dashboards.build"
