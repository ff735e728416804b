"""Baseline against disk (tmp_path): first run, offline changes, no-change rescans, caps, markings."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from agent.config_types import FileIntegrityConfig
from agent.sensors.file_integrity import scanner as scanner_module
from agent.sensors.file_integrity.baseline import BaselineStore, BaselineWriter
from agent.sensors.file_integrity.content import ContentPolicy, marking_in, read_states
from agent.sensors.file_integrity.observation import to_observation
from agent.sensors.file_integrity.reconciler import Reconciler
from agent.sensors.file_integrity.scanner import ScanAborted, Scanner
from agent.sensors.file_integrity.selection import PathSelection
from agent.sensors.file_integrity.state import FileState
from tests.unit.agent.sensors.contract_helpers import as_event


def make_reconciler(
    watched: Path,
    state: Path,
    *,
    max_hash_bytes: int = 1 << 20,
    workers: int = 1,
    exclude: list[str] | None = None,
) -> tuple[Reconciler, BaselineStore, Scanner]:
    config = FileIntegrityConfig(paths=[watched], exclude=exclude or [], max_hash_bytes=max_hash_bytes)
    selection = PathSelection(config.paths, config.include, config.exclude, config.recursive)
    policy = ContentPolicy(config.max_hash_bytes, True, tuple(config.marking_extensions), 4096)
    baseline = BaselineStore(state / "baseline.sqlite3")
    scanner = Scanner(selection, policy, workers)
    return Reconciler(baseline, scanner, selection), baseline, scanner


@pytest.fixture
def watched(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    (root / "sub").mkdir(parents=True)
    (root / "index.php").write_text("<?php echo 1;")
    (root / "sub" / "config.ini").write_text("a=1\n")
    return root


@pytest.fixture
def reconciler(watched: Path, tmp_path: Path) -> Iterator[Reconciler]:
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state")
    yield reconciler
    scanner.close()
    baseline.close()


def actions(changes: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(change.action, (change.new or change.old).path) for change in changes]


def test_first_scan_records_a_baseline_and_reports_it_as_first(reconciler: Reconciler, watched: Path) -> None:
    changes, first = reconciler.full_scan()
    assert first is True
    assert {path for _, path in actions(changes)} == {
        str(watched),
        str(watched / "index.php"),
        str(watched / "sub"),
        str(watched / "sub" / "config.ini"),
    }
    changes, first = reconciler.full_scan()
    assert (changes, first) == ([], False)


def test_changes_made_between_scans_are_reported_once(reconciler: Reconciler, watched: Path) -> None:
    reconciler.full_scan()
    (watched / "index.php").write_text("<?php system($_GET['c']);")
    os.chmod(watched / "sub" / "config.ini", 0o600)
    (watched / "shell.php").write_text("x")
    os.rename(watched / "sub" / "config.ini", watched / "sub" / "config.bak")
    changes, _ = reconciler.full_scan()
    assert sorted(actions(changes)) == sorted(
        [
            ("modification", str(watched / "index.php")),
            ("creation", str(watched / "shell.php")),
            ("rename", str(watched / "sub" / "config.bak")),
        ]
    )
    rename = next(change for change in changes if change.action == "rename")
    assert rename.changed_fields == ("path", "mode")
    assert reconciler.full_scan()[0] == []


def test_the_baseline_survives_a_restart(watched: Path, tmp_path: Path) -> None:
    first, baseline, scanner = make_reconciler(watched, tmp_path / "state")
    first.full_scan()
    scanner.close()
    baseline.close()
    (watched / "index.php").unlink()
    second, baseline, scanner = make_reconciler(watched, tmp_path / "state")
    try:
        changes, first_run = second.full_scan()
    finally:
        scanner.close()
        baseline.close()
    assert first_run is False
    assert actions(changes) == [("deletion", str(watched / "index.php"))]


def test_reconcile_of_a_few_paths_looks_only_there(reconciler: Reconciler, watched: Path) -> None:
    reconciler.full_scan()
    (watched / "index.php").write_text("changed")
    (watched / "sub" / "config.ini").write_text("changed too")
    changes = reconciler.reconcile({str(watched / "index.php")})
    assert actions(changes) == [("modification", str(watched / "index.php"))]
    changes = reconciler.reconcile({str(watched / "sub")})
    assert actions(changes) == [("modification", str(watched / "sub" / "config.ini"))]


def test_files_above_the_cap_are_not_hashed_and_say_why(watched: Path, tmp_path: Path) -> None:
    (watched / "big.bin").write_bytes(b"x" * 2048)
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state", max_hash_bytes=1024)
    try:
        reconciler.full_scan()
        (watched / "big.bin").write_bytes(b"y" * 4096)
        (change,) = reconciler.reconcile({str(watched / "big.bin")})
    finally:
        scanner.close()
        baseline.close()
    assert change.new is not None
    assert change.new.sha256 is None
    assert change.new.hash_skipped_reason == "size 4096 exceeds max_hash_bytes 1024"
    event = as_event(to_observation(change))
    assert event.canhgac.file is not None
    assert event.canhgac.file.hash_skipped_reason == "size 4096 exceeds max_hash_bytes 1024"


def test_excluded_files_and_directories_are_not_watched(watched: Path, tmp_path: Path) -> None:
    (watched / "cache").mkdir()
    (watched / "cache" / "x.html").write_text("x")
    (watched / "edit.swp").write_text("x")
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state", exclude=["*.swp", "*/cache"])
    try:
        changes, _ = reconciler.full_scan()
    finally:
        scanner.close()
        baseline.close()
    paths = {path for _, path in actions(changes)}
    assert str(watched / "edit.swp") not in paths
    assert not any("cache" in path for path in paths)


def test_worker_processes_hash_like_the_scanning_thread(watched: Path, tmp_path: Path) -> None:
    for index in range(80):
        (watched / f"file{index}.txt").write_bytes(os.urandom(1000 + index))
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state", workers=2)
    try:
        changes, _ = reconciler.full_scan()
    finally:
        scanner.close()
        baseline.close()
    hashed = {
        change.new.path: change.new.sha256 for change in changes if change.new and change.new.type == "file"
    }
    assert len(hashed) == 82
    for path, digest in hashed.items():
        assert digest == hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("text", "marking"),
    [
        ("TUYỆT MẬT\nBáo cáo", "TUYỆT MẬT"),
        ("Độ mật: TỐI MẬT", "TỐI MẬT"),
        ("MẬT - Số 12/BC", "MẬT"),
        ("Tài liệu bí mật của mật khẩu", None),  # lowercase words are everyday Vietnamese
        ("MẬTKHẨU", None),
    ],
)
def test_state_secret_markings(text: str, marking: str | None) -> None:
    assert marking_in(text.encode()) == marking


def test_marking_is_reported_only_for_text_like_files(reconciler: Reconciler, watched: Path) -> None:
    reconciler.full_scan()
    (watched / "report.txt").write_text("TỐI MẬT\nnội dung")
    (watched / "report.bin").write_text("TỐI MẬT\nnội dung")
    changes = reconciler.reconcile({str(watched / "report.txt"), str(watched / "report.bin")})
    markings = {change.new.path: change.new.marking for change in changes if change.new}
    assert markings == {str(watched / "report.bin"): None, str(watched / "report.txt"): "TỐI MẬT"}
    event = as_event(to_observation(next(c for c in changes if c.new and c.new.marking)))
    assert event.canhgac.file is not None
    assert event.canhgac.file.classification_marking == "TỐI MẬT"


def test_an_aborted_scan_stops_and_leaves_the_baseline_untouched(watched: Path, tmp_path: Path) -> None:
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state")
    try:
        reconciler.full_scan()
        (watched / "index.php").write_text("changed")
        scanner.abort()
        with pytest.raises(ScanAborted):
            reconciler.full_scan()
        assert baseline.get(str(watched / "index.php")) is not None
        assert baseline.get(str(watched / "index.php")).size == len("<?php echo 1;")  # type: ignore[union-attr]
    finally:
        scanner.close()
        baseline.close()


def test_an_event_inside_an_excluded_directory_is_ignored(watched: Path, tmp_path: Path) -> None:
    (watched / "cache" / "deep").mkdir(parents=True)
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state", exclude=["*/cache"])
    try:
        reconciler.full_scan()
        (watched / "cache" / "deep" / "page.html").write_text("x")
        assert reconciler.reconcile({str(watched / "cache" / "deep" / "page.html")}) == []
    finally:
        scanner.close()
        baseline.close()


def test_a_scan_aborted_after_storing_some_states_leaves_the_baseline_as_before(
    watched: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough files for several pool tasks, whose states are written while later tasks are hashed.
    for index in range(3 * scanner_module._TASK_MAX_FILES):
        (watched / f"file{index:04d}.txt").write_text("old")
    reconciler, baseline, scanner = make_reconciler(watched, tmp_path / "state", workers=2)
    try:
        reconciler.full_scan()
        stored_before = baseline.all()
        for index in range(3 * scanner_module._TASK_MAX_FILES):
            (watched / f"file{index:04d}.txt").write_text("new content")
        tasks: list[int] = []

        def abort_at_the_last_task(
            files: list[tuple[str, os.stat_result]], policy: ContentPolicy
        ) -> list[FileState]:
            tasks.append(len(files))
            if len(tasks) == 3:
                scanner.abort()
            return read_states(files, policy)

        monkeypatch.setattr(scanner_module, "read_states", abort_at_the_last_task)
        written: list[FileState] = []
        real_upsert = BaselineWriter.upsert

        def recording_upsert(self: BaselineWriter, states: Iterable[FileState]) -> None:
            states = list(states)
            written.extend(states)
            real_upsert(self, states)

        monkeypatch.setattr(BaselineWriter, "upsert", recording_upsert)
        with pytest.raises(ScanAborted):
            reconciler.full_scan()
        assert any(state.size == len("new content") for state in written)  # stored before the stop
        assert baseline.all() == stored_before
    finally:
        scanner.close()
        baseline.close()
