"""Which indices a test session removes from the test stack before it starts."""

from __future__ import annotations

from tests.support.leftovers import stale_test_indices

HOUR_MS = 3600 * 1000


def test_only_test_indices_older_than_the_cutoff_are_stale() -> None:
    now = 100 * HOUR_MS
    found = [
        ("t0123456789-alerts-2026.11", now - 5 * HOUR_MS),  # a test's, old: stale
        ("tdeadbeef-events-2026.11", now - 4 * HOUR_MS),  # 8 hex digits: stale
        ("t0123456789-incidents", now - 5 * HOUR_MS),
        ("f0a1b2c3d-events-2026.11", now - 2 * HOUR_MS),  # the fault suite's
        ("tcli224455123456-incidents", now - 2 * HOUR_MS),
        ("tabcdef0123-alerts-2026.11", now - 60_000),  # a session running now
        ("canhgac-alerts-2026.11", now - 50 * HOUR_MS),  # not a test's
        ("tenant-alerts", now - 50 * HOUR_MS),  # not hex
        (".security-7", now - 50 * HOUR_MS),
    ]

    stale, live_prefixes = stale_test_indices(found, now, stale_after_s=3600)

    assert stale == [
        "t0123456789-alerts-2026.11",
        "tdeadbeef-events-2026.11",
        "t0123456789-incidents",
        "f0a1b2c3d-events-2026.11",
        "tcli224455123456-incidents",
    ]
    assert live_prefixes == {"tabcdef0123-"}
