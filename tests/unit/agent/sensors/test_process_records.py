"""The listener's value classes (agent.sensors.process.record): what dataclasses gave them, kept."""

from __future__ import annotations

import pickle

import pytest

from agent.sensors.process.connector import ExecEvent, ExitEvent, ForkEvent
from agent.sensors.process.procfs import ProcessSnapshot, ProcStat
from agent.sensors.process.snapshotter import ExecSeen, ExitSeen, Failed, KernelDrops, ParentSnapshot, Started

STAT = ProcStat("bash", 1, 42)
PROCESS = ProcessSnapshot(7, 10, "/usr/bin/bash", (1, 2, 3), ("bash", "-c", "x"), STAT, 0, 0, "/root")
RECORDS = [
    ForkEvent(1, 2),
    ExecEvent(3),
    ExitEvent(4, None),
    STAT,
    PROCESS,
    ProcessSnapshot(pid=8, seen_ns=11),
    ParentSnapshot(1, "/sbin/init", ("init",), STAT),
    ExecSeen(PROCESS, None),
    ExitSeen(ExitEvent(4, 130), STAT, 12),
    Started(realtime=True, exec_opens=False),
    Failed(1, "Operation not permitted"),
    KernelDrops(3),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: type(record).__name__)
def test_a_record_survives_the_pickle_channel_equal_and_with_its_type(record: object) -> None:
    copy = pickle.loads(pickle.dumps(record, pickle.HIGHEST_PROTOCOL))
    assert type(copy) is type(record)
    assert copy == record
    assert hash(copy) == hash(record)


def test_records_compare_by_type_and_values() -> None:
    assert ExitEvent(1, 2) == ExitEvent(1, 2)
    assert ExitEvent(1, 2) != ExitEvent(1, 3)
    assert ForkEvent(1, 2) != ExitEvent(1, 2)  # same values, another kind of event
    assert ProcStat("a", 1, 2) != ("a", 1, 2)


def test_defaults_and_repr_name_every_field() -> None:
    bare = ProcessSnapshot(8, 11)
    assert (bare.executable, bare.stat, bare.executable_source) == (None, None, "procfs")
    assert repr(ExitEvent(4, None)) == "ExitEvent(pid=4, exit_code=None)"


def test_records_are_immutable_and_replace_makes_a_changed_copy() -> None:
    with pytest.raises(AttributeError):
        PROCESS.pid = 9
    with pytest.raises(AttributeError):
        del PROCESS.cwd
    changed = PROCESS._replace(executable="/bin/sh", executable_source="exec_open")
    assert (changed.executable, changed.executable_source, changed.args) == (
        "/bin/sh",
        "exec_open",
        PROCESS.args,
    )
    assert PROCESS.executable == "/usr/bin/bash"
