"""Bringing the baseline up to date with the disk and saying what changed."""

from __future__ import annotations

from collections.abc import Iterable

from agent.sensors.file_integrity.baseline import BaselineStore
from agent.sensors.file_integrity.diff import Change, diff
from agent.sensors.file_integrity.scanner import Scanner
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.state import FileState


class Reconciler:
    """Compares the baseline with the disk, for all roots or for a few paths, and stores the result.

    Blocking (stat, hashing, SQLite): call it from one worker thread, never the event loop. A change is
    returned once: after ``reconcile`` the baseline holds the new state, so the same look again finds
    nothing.
    """

    def __init__(self, baseline: BaselineStore, scanner: Scanner, selection: PathSelection) -> None:
        self._baseline = baseline
        self._scanner = scanner
        self._selection = selection

    def full_scan(self) -> tuple[list[Change], bool]:
        """Every root; returns the changes and whether the baseline was empty (a first run reports none:
        there is nothing to compare with)."""
        first_run = self._baseline.is_empty()
        return self._scan(self._selection.roots, self._baseline.all()), first_run

    def reconcile(self, paths: set[str]) -> list[Change]:
        """The given paths (and what is below any that is a directory)."""
        tops = _outermost(path for path in paths if self._selection.under_root(path))
        before: dict[str, FileState] = {}
        for top in tops:
            before.update(self._baseline.under(top))
        return self._scan(tops, before)

    def _scan(self, tops: list[str], before: dict[str, FileState]) -> list[Change]:
        """Scan ``tops``, store what differs from ``before`` in one transaction, return the changes.

        States are written as the scanner finalises them, while its threads still hash the rest; a
        path met twice (overlapping roots) is written again so the last state wins, as in ``after``."""
        written: set[str] = set()
        with self._baseline.transaction() as writer:

            def store(states: list[FileState]) -> None:
                changed = [
                    state for state in states if state.path in written or before.get(state.path) != state
                ]
                written.update(state.path for state in changed)
                writer.upsert(changed)

            after: dict[str, FileState] = {}
            for top in tops:
                after.update(self._scanner.states_under(top, before, store))
            changes = diff(before, after)
            writer.delete(path for path in before if path not in after)
        return changes


def _outermost(paths: Iterable[str]) -> list[str]:
    """Drop paths that lie below another path of the set: walking the ancestor covers them."""
    kept: list[str] = []
    for path in sorted(paths):
        if not kept or not (path == kept[-1] or path.startswith(kept[-1].rstrip("/") + "/")):
            kept.append(path)
    return kept
