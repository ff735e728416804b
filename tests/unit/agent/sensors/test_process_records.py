"""The listener's value classes (agent.sensors.process.record), what dataclasses gave them, kept, and the
channel that carries them to the agent (agent.sensors.process.channel)."""

from __future__ import annotations

import marshal
import pickle

import pytest

from agent.sensors.process.channel import dumps, loads
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


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: type(record).__name__)
def test_a_record_crosses_the_channel_equal_and_with_its_type(record: object) -> None:
    copy = loads(dumps(record))
    assert type(copy) is type(record)
    assert copy == record


def test_a_batch_crosses_the_channel_with_nested_records_and_plain_tuples() -> None:
    batch = [ExecSeen(PROCESS, ParentSnapshot(1, None, None, None)), ExitSeen(ExitEvent(4, 1), None, 5)]
    copy = loads(dumps(batch))
    assert copy == batch
    assert isinstance(copy, list)
    assert type(copy[0].process.stat) is ProcStat
    assert copy[0].process.exe_key == (1, 2, 3)
    assert copy[0].process.args == ("bash", "-c", "x")


def test_the_channel_refuses_a_dict_and_an_unknown_record_class() -> None:
    with pytest.raises(TypeError):
        dumps([{"pid": 1}])
    with pytest.raises(ValueError, match="Nonexistent"):
        loads(marshal.dumps({"Nonexistent": (1,)}))
