"""Wildcards and escapes, null, keywords, list-valued fields, nested and dotted field lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.collector.detection.detection_helpers import (
    engine_for,
    hit,
    process_event,
    rule_text,
    single_rule,
)


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("'/usr/*/python*'", "/usr/bin/python3", True),
        ("'/usr/*/python*'", "/opt/bin/python3", False),
        ("'/bin/?h'", "/bin/sh", True),
        ("'/bin/?h'", "/bin/bash", False),
        ("'a*b?c'", "AxxxB-C", True),
        ("'a*b?c'", "abc", False),
        ("'file\\*.txt'", "file*.txt", True),  # escaped wildcard is a literal star
        ("'file\\*.txt'", "file1.txt", False),
        ("'what\\?'", "what?", True),
        ("'what\\?'", "whats", False),
        ("'C:\\Windows\\'", "c:\\windows\\", True),  # backslash before a plain character stays
        ("'dbl\\\\*'", "dbl\\anything", True),  # escaped backslash, then a wildcard
        ("'*'", "anything at all", True),
        ("''", "", True),
        ("''", "x", False),
    ],
)
def test_wildcards_and_escapes(tmp_path: Path, value: str, text: str, expected: bool) -> None:
    engine = single_rule(tmp_path, f"sel:\n  process.executable: {value}\ncondition: sel")
    assert hit(engine, executable=text) is expected


def test_wildcard_never_crosses_into_another_value(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.args: 'a*z'\ncondition: sel")
    assert not hit(engine, args=["a", "z"])
    assert hit(engine, args=["x", "abcz"])


def test_null_matches_absent_or_null_field(tmp_path: Path) -> None:
    engine = single_rule(
        tmp_path, "sel:\n  process.name: sh\n  process.parent.executable: null\ncondition: sel"
    )
    assert hit(engine, name="sh")
    assert hit(engine, name="sh", parent=None)
    assert hit(engine, name="sh", parent={"executable": None})
    assert not hit(engine, name="sh", parent={"executable": "/bin/bash"})


def test_not_null_via_negation(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.parent.executable: null\ncondition: not sel")
    assert hit(engine, parent={"executable": ""})
    assert not hit(engine)


def test_list_field_matches_if_any_element_matches(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.args|contains: '--no-check'\ncondition: sel")
    assert hit(engine, args=["wget", "--no-check-certificate", "https://x"])
    assert not hit(engine, args=["wget", "https://x"])
    assert not hit(engine, args=[])


def test_all_modifier_over_list_field_may_use_different_elements(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.args|all: [wget, '-q']\ncondition: sel")
    assert hit(engine, args=["wget", "-q", "x"])
    assert not hit(engine, args=["wget", "x"])


def test_numbers_and_booleans_in_events(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.pid: 4242\n  process.interactive: true\ncondition: sel")
    assert hit(engine, interactive=True)
    assert hit(engine, interactive="TRUE")
    assert not hit(engine, interactive=False)
    string_pid = process_event(interactive=True)
    string_pid["process"]["pid"] = "4242"
    assert engine.match(string_pid)


def test_number_value_against_every_json_type(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.exit_code: 1\ncondition: sel")
    for value, expected in [
        (1, True),
        (1.0, True),
        (" 1 ", True),
        ("0x1", True),
        ([0, 1], True),
        (True, False),  # a JSON boolean is not the number 1
        (2, False),
        ("one", False),
        ({"code": 1}, False),
    ]:
        assert hit(engine, exit_code=value) is expected, value


def test_string_value_against_number_field(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.pid: '42*'\ncondition: sel")
    assert hit(engine)  # pid 4242 rendered as text


def test_object_values_never_match_strings(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.parent|contains: bash\ncondition: sel")
    assert not hit(engine, parent={"executable": "/bin/bash"})


def test_flat_dotted_key_is_found_too(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.command_line|contains: whoami\ncondition: sel")
    event: dict[str, Any] = process_event()
    event["process.command_line"] = "sh -c whoami"
    assert engine.match(event)


def test_arrays_of_objects_are_searched(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  threat.technique.id: T1059\ncondition: sel")
    event = process_event()
    event["threat"] = {"technique": [{"id": "T1000"}, {"id": "t1059"}]}
    assert engine.match(event)


AUTH_LOGSOURCE = "product: linux\nservice: sshd"


def auth_event(message: str) -> dict[str, Any]:
    return {
        "event": {"id": "a1", "dataset": "canhgac.authentication", "action": "ssh_login"},
        "message": message,
        "process": {"pid": 10, "name": "sshd"},
    }


def test_keywords_search_the_message(tmp_path: Path) -> None:
    text = rule_text(
        "keywords:\n  - 'Accepted publickey for root'\n  - 'error in libcrypto'\ncondition: keywords",
        logsource=AUTH_LOGSOURCE,
    )
    engine = engine_for(tmp_path, text)
    assert engine.errors == []
    assert engine.match(auth_event("sshd[99]: ACCEPTED publickey for root from 10.0.0.1 port 22"))
    assert engine.match(auth_event("sshd[9]: error in libcrypto"))
    assert not engine.match(auth_event("sshd[9]: Accepted password for alice"))


def test_keywords_all_and_wildcards(tmp_path: Path) -> None:
    text = rule_text(
        "keywords:\n  '|all':\n    - 'Failed password'\n    - 'invalid user *admin'\ncondition: keywords",
        logsource=AUTH_LOGSOURCE,
    )
    engine = engine_for(tmp_path, text)
    assert engine.errors == []
    assert engine.match(auth_event("Failed password for invalid user webadmin from 1.2.3.4"))
    assert not engine.match(auth_event("Failed password for alice"))


def test_keyword_numbers_are_text(tmp_path: Path) -> None:
    text = rule_text("keywords:\n  - 6\ncondition: keywords", logsource=AUTH_LOGSOURCE)
    engine = engine_for(tmp_path, text)
    assert engine.errors == []
    assert engine.match(auth_event("telinit 6"))
    assert not engine.match(auth_event("telinit 3"))


def test_keywords_with_fields(tmp_path: Path) -> None:
    text = rule_text(
        "keywords:\n  - 'session opened'\nsel:\n  process.name: sshd\ncondition: keywords and sel",
        logsource=AUTH_LOGSOURCE,
    )
    engine = engine_for(tmp_path, text)
    assert engine.match(auth_event("pam_unix(sshd:session): session opened for user bob"))
    other = auth_event("pam_unix(sshd:session): session opened for user bob")
    other["process"]["name"] = "sudo"
    assert not engine.match(other)


HOSTILE_EVENTS: list[Any] = [
    {"event": {"dataset": ["canhgac.process"], "action": "exec"}},
    {"event": {"dataset": "canhgac.process", "action": {"x": 1}}},
    {"event": "canhgac.process"},
    {},
    {
        "event": {"dataset": "canhgac.process", "action": "exec"},
        "process": {"command_line": ["a", {"b": 2}, None, 3.5, True, "\udcff" * 3], "name": {"nested": "sh"}},
        "process.command_line": 12,
        "message": "x" * 200_000,
        "user": [{"name": None}, "root"],
        "source": {"ip": "999.1.1.1"},
    },
    {"event": {"dataset": "canhgac.process", "action": "exec"}, "process": "not an object", "message": None},
]


def test_hostile_events_never_raise(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text(
            "a:\n  process.command_line|re: 'x{3}'\nb:\n  process.name|contains: sh\n"
            "c:\n  source.ip|cidr: 10.0.0.0/8\n"
            "d:\n  process.pid|gt: 3\ne:\n  user.name: root\nf:\n  process.start|hour: 3\nk:\n  - xxx\n"
            "condition: 1 of them"
        ),
    )
    assert engine.errors == []
    outcomes = [len(engine.match(event)) for event in HOSTILE_EVENTS]
    assert outcomes[:4] == [0, 0, 0, 0]  # unroutable
    assert outcomes[4] == 1  # the keyword finds "xxx" in the long message; nothing raises
