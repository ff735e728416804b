"""Coalescing of bursts: one look per path once it is quiet, bounded delay, move pairs kept together."""

from __future__ import annotations

from agent.sensors.file_integrity.debounce import Debouncer


def test_a_burst_on_one_path_is_released_once_after_it_goes_quiet() -> None:
    debouncer = Debouncer(quiet_s=0.3, max_delay_s=10)
    for tick in range(10):
        debouncer.touch("/w/f", now=tick * 0.1)
        assert debouncer.due(now=tick * 0.1) == set()
    assert debouncer.due(now=0.9 + 0.29) == set()
    assert debouncer.due(now=0.9 + 0.3) == {"/w/f"}
    assert debouncer.due(now=5) == set()
    assert len(debouncer) == 0


def test_a_path_written_without_pause_is_still_released_after_max_delay() -> None:
    debouncer = Debouncer(quiet_s=0.3, max_delay_s=2)
    released_at = None
    for tick in range(50):
        now = tick * 0.1
        debouncer.touch("/w/log", now=now)
        if debouncer.due(now=now):
            released_at = now
            break
    assert released_at is not None
    assert 2.0 <= released_at < 2.2


def test_paths_touched_together_are_released_together() -> None:
    debouncer = Debouncer(quiet_s=0.3, max_delay_s=10)
    debouncer.touch("/w/old-name", now=1.0)
    debouncer.touch("/w/new-name", now=1.0)
    debouncer.touch("/w/other", now=1.2)
    assert debouncer.next_deadline() == 1.3
    assert debouncer.due(now=1.3) == {"/w/old-name", "/w/new-name"}
    assert debouncer.due(now=1.5) == {"/w/other"}
