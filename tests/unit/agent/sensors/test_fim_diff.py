"""The baseline comparison: which change each difference is, and renames paired by inode."""

from __future__ import annotations

from agent.sensors.file_integrity.diff import compare, diff
from agent.sensors.file_integrity.state import FileState

SHA_A = "a" * 64
SHA_B = "b" * 64


def state(path: str = "/w/f", **changes: object) -> FileState:
    base = FileState(
        path=path, type="file", size=10, mode=0o644, uid=0, gid=0, inode=100, device=1,
        mtime_ns=1_000, ctime_ns=1_000, sha256=SHA_A,
    )  # fmt: skip
    return base._replace(**changes)  # type: ignore[arg-type]


def test_identical_states_are_no_change() -> None:
    assert compare(state(), state()) is None
    assert diff({"/w/f": state()}, {"/w/f": state()}) == []


def test_ctime_alone_is_not_reported() -> None:
    assert compare(state(), state(ctime_ns=2_000)) is None


def test_content_change_is_a_modification_with_its_fields() -> None:
    change = compare(state(), state(sha256=SHA_B, size=11, mtime_ns=2_000))
    assert change is not None
    assert change.action == "modification"
    assert change.changed_fields == ("hash.sha256", "size", "mtime")


def test_mode_and_owner_change_is_an_attributes_modification() -> None:
    change = compare(state(), state(mode=0o600, uid=1000))
    assert change is not None
    assert change.action == "attributes_modification"
    assert change.changed_fields == ("mode", "uid")


def test_content_and_mode_together_count_as_modification() -> None:
    change = compare(state(), state(sha256=SHA_B, mode=0o600))
    assert change is not None
    assert change.action == "modification"
    assert set(change.changed_fields) == {"hash.sha256", "mode"}


def test_unhashed_large_file_is_compared_by_size_and_mtime() -> None:
    old = state(sha256=None, hash_skipped_reason="too large")
    assert compare(old, old._replace()) is None
    change = compare(old, old._replace(mtime_ns=5_000))
    assert change is not None
    assert change.action == "modification"


def test_directory_size_and_mtime_follow_children_and_are_ignored() -> None:
    directory = state("/w/d", type="dir", sha256=None)
    assert compare(directory, directory._replace(size=4096 * 2, mtime_ns=9_000)) is None
    change = compare(directory, directory._replace(mode=0o700))
    assert change is not None
    assert change.action == "attributes_modification"


def test_created_and_deleted_paths() -> None:
    changes = diff({"/w/old": state("/w/old", inode=1)}, {"/w/new": state("/w/new", inode=2)})
    assert [(change.action, (change.old or change.new).path) for change in changes] == [  # type: ignore[union-attr]
        ("creation", "/w/new"),
        ("deletion", "/w/old"),
    ]


def test_same_inode_and_content_under_a_new_path_is_a_rename() -> None:
    changes = diff({"/w/a": state("/w/a")}, {"/w/b": state("/w/b")})
    assert len(changes) == 1
    rename = changes[0]
    assert rename.action == "rename"
    assert rename.old is not None
    assert rename.old.path == "/w/a"
    assert rename.new is not None
    assert rename.new.path == "/w/b"
    assert rename.changed_fields == ("path",)


def test_reused_inode_with_other_content_is_not_a_rename() -> None:
    changes = diff({"/w/a": state("/w/a")}, {"/w/b": state("/w/b", sha256=SHA_B)})
    assert sorted(change.action for change in changes) == ["creation", "deletion"]


def test_rename_with_a_mode_change_reports_both() -> None:
    changes = diff({"/w/a": state("/w/a")}, {"/w/b": state("/w/b", mode=0o600)})
    assert [(change.action, change.changed_fields) for change in changes] == [("rename", ("path", "mode"))]
