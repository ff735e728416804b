from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collector.incidents.grouping import grouping_key, incident_id, reason, window_of

HOUR = timedelta(hours=1)


def alert(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@timestamp": "2026-03-04T10:15:00+00:00",
        "event": {"id": "a1"},
        "organization": {"id": "agency-a"},
        "host": {"id": "host-1"},
        "rule": {"id": "rule-1"},
        "canhgac": {"alert": {"correlation": None}},
    }
    document.update(overrides)
    return document


def test_same_agency_host_rule_and_window_share_an_incident() -> None:
    first, second = alert(), alert(**{"@timestamp": "2026-03-04T10:59:59+00:00", "event": {"id": "a2"}})
    assert incident_id(grouping_key(first), window_of(first, HOUR)) == incident_id(
        grouping_key(second), window_of(second, HOUR)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"host": {"id": "host-2"}},
        {"rule": {"id": "rule-2"}},
        {"organization": {"id": "agency-b"}},
        {"@timestamp": "2026-03-04T11:00:00+00:00"},
    ],
)
def test_any_other_key_or_window_is_another_incident(change: dict[str, Any]) -> None:
    base, other = alert(), alert(**change)
    assert incident_id(grouping_key(base), window_of(base, HOUR)) != incident_id(
        grouping_key(other), window_of(other, HOUR)
    )


def test_windows_are_aligned_so_the_id_depends_only_on_the_alert() -> None:
    window = window_of(alert(), HOUR)
    assert window.start == datetime(2026, 3, 4, 10, tzinfo=UTC)
    assert window.seconds == 3600


def test_correlation_alerts_group_by_rule_and_correlation_group_across_hosts() -> None:
    correlated = {"canhgac": {"alert": {"correlation": {"group": {"source.ip": "10.0.0.9"}}}}}
    one, two = alert(**correlated), alert(host={"id": "host-9"}, **correlated)
    assert grouping_key(one) == grouping_key(two)
    assert grouping_key(one).as_dict()["correlation.source.ip"] == "10.0.0.9"
    assert "correlation group" in reason(grouping_key(one), window_of(one, HOUR))


def test_reason_explains_the_key_and_window() -> None:
    text = reason(grouping_key(alert()), window_of(alert(), HOUR))
    assert "agency-a" in text
    assert "host-1" in text
    assert "rule-1" in text
    assert "2026-03-04T10:00:00" in text


def test_alert_without_an_agency_is_refused_with_the_field() -> None:
    with pytest.raises(ValueError, match=r"organization\.id"):
        grouping_key(alert(organization={}))
