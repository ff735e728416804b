"""FIM observations fit the contract, with previous values only for what changed."""

from __future__ import annotations

from agent.sensors.file_integrity.diff import Change
from agent.sensors.file_integrity.observation import to_observation
from agent.sensors.file_integrity.state import FileState
from event_contract import FileEvent
from tests.unit.agent.sensors.contract_helpers import as_event

OLD = FileState(
    path="/etc/passwd", type="file", size=1200, mode=0o644, uid=0, gid=0, inode=42, device=1,
    mtime_ns=1_700_000_000_000_000_000, ctime_ns=1, sha256="a" * 64,
)  # fmt: skip


def file_event(change: Change) -> FileEvent:
    event = as_event(to_observation(change))
    assert isinstance(event, FileEvent)
    return event


def test_modification_carries_new_values_and_the_previous_hash_size_and_mtime() -> None:
    new = OLD._replace(size=1300, sha256="b" * 64, mtime_ns=OLD.mtime_ns + 10**9)
    event = file_event(Change("modification", OLD, new, ("hash.sha256", "size", "mtime")))
    assert event.event.category == ["file"]
    assert event.event.type == ["change"]
    assert event.event.action == "modification"
    assert event.file.hash is not None
    assert event.file.hash.sha256 == "b" * 64
    assert event.file.owner == "root"
    assert event.file.mode == "0644"
    extra = event.canhgac.file
    assert extra is not None
    assert extra.previous is not None
    assert extra.previous.hash is not None
    assert extra.previous.hash.sha256 == "a" * 64
    assert extra.previous.size == 1200
    assert extra.previous.mode is None  # unchanged fields are not repeated
    assert extra.changed_fields == ["hash.sha256", "size", "mtime"]


def test_attribute_change_reports_old_mode_and_owner() -> None:
    new = OLD._replace(mode=0o4755, uid=1)
    event = file_event(Change("attributes_modification", OLD, new, ("mode", "uid")))
    assert event.file.mode == "04755"
    assert event.canhgac.file is not None
    assert event.canhgac.file.previous is not None
    assert event.canhgac.file.previous.mode == "0644"
    assert event.canhgac.file.previous.uid == "0"
    assert event.canhgac.file.previous.owner == "root"


def test_rename_carries_the_old_path() -> None:
    event = file_event(Change("rename", OLD, OLD._replace(path="/etc/passwd-"), ("path",)))
    assert event.file.path == "/etc/passwd-"
    assert event.canhgac.file is not None
    assert event.canhgac.file.previous is not None
    assert event.canhgac.file.previous.path == "/etc/passwd"


def test_creation_and_deletion_types() -> None:
    created = file_event(Change("creation", None, OLD))
    deleted = file_event(Change("deletion", OLD, None))
    assert (created.event.type, created.event.action) == (["creation"], "creation")
    assert (deleted.event.type, deleted.event.action) == (["deletion"], "deletion")
    assert deleted.file.hash is not None  # the last known content
    assert created.canhgac.file is None
