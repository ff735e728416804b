"""Auth log lines as they appear on Debian and RHEL, turned into contract events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.config_types import AuthLogSource
from agent.sensors.login.parsers import parse_record
from agent.sensors.login.sensor import to_record
from event_contract import AuthenticationEvent
from tests.unit.agent.sensors.contract_helpers import as_event

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SYSLOG = AuthLogSource(path=Path("/var/log/auth.log"))
H = "Nov 22 14:01:02 web1"
"""A syslog header: time and host; the program follows in each line."""


def event_of(line: str, source: AuthLogSource = SYSLOG, **options: object) -> AuthenticationEvent | None:
    record = to_record(line, source, NOW)
    assert record is not None, "the line should have a syslog header"
    settings = {"ignored_pam_services": frozenset({"cron"}), "report_unparsed": True, **options}
    observation = parse_record(record, **settings)  # type: ignore[arg-type]
    if observation is None:
        return None
    event = as_event(observation)
    assert isinstance(event, AuthenticationEvent)
    assert event.message == line, "the raw line is always in message"
    return event


def test_accepted_password_login() -> None:
    event = event_of(f"{H} sshd[811]: Accepted password for alice from 10.0.0.5 port 52314 ssh2")
    assert event is not None
    assert (event.event.category, event.event.type) == (["authentication"], ["start"])
    assert (event.event.action, event.event.outcome) == ("ssh_login", "success")
    assert event.user is not None
    assert event.user.name == "alice"
    assert event.source is not None
    assert (event.source.ip, event.source.port) == ("10.0.0.5", 52314)
    assert event.canhgac.auth is not None
    assert event.canhgac.auth.method == "password"
    assert event.process is not None
    assert event.process.pid == 811


def test_accepted_publickey_with_fingerprint_and_ipv6() -> None:
    event = event_of(
        "2026-11-22T14:01:02.123456+07:00 web1 sshd[900]: Accepted publickey for deploy from "
        "2001:db8::7 port 40022 ssh2: ED25519 SHA256:7n3wqGzv0Zc5lZ0aV3Bq+Jc2x0kqk0m1yF2ZcZ9w9jE"
    )
    assert event is not None
    assert event.canhgac.auth is not None
    assert event.canhgac.auth.method == "publickey"
    assert event.source is not None
    assert event.source.ip == "2001:db8::7"
    assert event.timestamp == datetime(2026, 11, 22, 7, 1, 2, 123456, tzinfo=UTC)


def test_failed_password_for_an_invalid_user() -> None:
    event = event_of(f"{H} sshd[812]: Failed password for invalid user admin from 203.0.113.9 port 6000 ssh2")
    assert event is not None
    assert (event.event.action, event.event.outcome) == ("ssh_login", "failure")
    assert event.user is not None
    assert event.user.name == "admin"
    assert event.related == {"user": ["admin"], "ip": ["203.0.113.9"]}


def test_invalid_user_notice() -> None:
    event = event_of(f"{H} sshd[812]: Invalid user admin from 203.0.113.9 port 6000")
    assert event is not None
    assert event.event.action == "ssh_invalid_user"
    assert (event.event.type, event.event.outcome) == (["info"], "failure")


def test_sudo_command_and_refusal() -> None:
    ok = event_of(
        f"{H} sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow"
    )
    assert ok is not None
    assert (ok.event.action, ok.event.outcome) == ("sudo", "success")
    assert ok.user is not None
    assert ok.user.name == "alice"
    assert ok.user.target is not None
    assert ok.user.target.name == "root"
    assert ok.process is None  # traditional sudo lines carry no pid
    refused = event_of(
        f"{H} sudo[4242]:      bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; "
        "USER=root ; COMMAND=/bin/bash"
    )
    assert refused is not None
    assert refused.event.outcome == "failure"
    assert refused.process is not None
    assert refused.process.command_line == "/bin/bash"


def test_su_success_and_failure() -> None:
    ok = event_of(f"{H} su[5000]: (to root) alice on pts/0")
    failed = event_of(f"{H} su[5001]: FAILED SU (to root) mallory on pts/2")
    assert ok is not None
    assert failed is not None
    assert (ok.event.action, ok.event.outcome) == ("su", "success")
    assert failed.event.outcome == "failure"
    assert failed.user is not None
    assert failed.user.name == "mallory"


def test_pam_sessions_name_who_acts_and_on_whom() -> None:
    opened = event_of(
        f"{H} sshd[811]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)"
    )
    assert opened is not None
    assert (opened.event.category, opened.event.type) == (["session"], ["start"])
    assert opened.event.action == "session_open"
    assert opened.user is not None
    assert (opened.user.name, opened.user.id) == ("alice", "1000")
    sudo = event_of(
        f"{H} sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)"
    )
    assert sudo is not None
    assert sudo.user is not None
    assert sudo.user.name == "alice"
    assert sudo.user.target is not None
    assert sudo.user.target.name == "root"
    closed = event_of(f"{H} sshd[811]: pam_unix(sshd:session): session closed for user alice")
    assert closed is not None
    assert closed.event.type == ["end"]


def test_cron_sessions_are_ignored() -> None:
    line = f"{H} CRON[6001]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
    assert event_of(line) is None


def test_pam_authentication_failure_carries_remote_host() -> None:
    event = event_of(
        f"{H} sshd[812]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=203.0.113.9  user=alice"
    )
    assert event is not None
    assert event.event.outcome == "failure"
    assert event.user is not None
    assert event.user.name == "alice"
    assert event.source is not None
    assert event.source.ip == "203.0.113.9"


@pytest.mark.parametrize(
    ("line", "action", "types", "target", "group"),
    [
        (
            f"{H} useradd[7000]: new user: name=backdoor, UID=0, GID=0, home=/root, "
            "shell=/bin/bash, from=/dev/pts/0",
            "user_creation", ["user", "creation"], "backdoor", None,
        ),
        (f"{H} groupadd[7001]: new group: name=devs, GID=1002", "group_creation",
         ["group", "creation"], None, "devs"),
        (f"{H} usermod[7002]: add 'bob' to group 'sudo'", "user_added_to_group",
         ["group", "change"], "bob", "sudo"),
        (f"{H} usermod[7003]: change user 'bob' shell from '/bin/bash' to '/bin/sh'",
         "user_change", ["user", "change"], "bob", None),
        (f"{H} userdel[7004]: delete user 'bob'", "user_deletion", ["user", "deletion"], "bob",
         None),
        (f"{H} passwd[7005]: pam_unix(passwd:chauthtok): password changed for bob",
         "password_change", ["user", "change"], "bob", None),
    ],
)  # fmt: skip
def test_account_changes(
    line: str, action: str, types: list[str], target: str | None, group: str | None
) -> None:
    event = event_of(line)
    assert event is not None
    assert event.event.category == ["iam"]
    assert (event.event.action, event.event.type) == (action, types)
    assert (event.user.target.name if event.user and event.user.target else None) == target
    assert (event.group.name if event.group else None) == group


def test_unparsed_lines_of_known_programs_stay_visible_as_info() -> None:
    line = f"{H} sshd[812]: Connection closed by authenticating user alice 10.0.0.5 port 52314 [preauth]"
    event = event_of(line)
    assert event is not None
    assert (event.event.category, event.event.type) == (["authentication"], ["info"])
    assert event.event.action == "sshd_message"
    assert event_of(line, report_unparsed=False) is None


def test_lines_of_other_programs_are_not_reported() -> None:
    assert event_of(f"{H} systemd-logind[500]: New session 4 of user alice.") is None


def test_headerless_sshd_log_written_with_dash_e() -> None:
    source = AuthLogSource(path=Path("/var/log/sshd-test.log"), program="sshd")
    record = to_record("Failed password for root from 127.0.0.1 port 41000 ssh2", source, NOW)
    assert record is not None
    observation = parse_record(record, ignored_pam_services=frozenset(), report_unparsed=True)
    assert observation is not None
    event = as_event(observation)
    assert isinstance(event, AuthenticationEvent)
    assert (event.event.action, event.event.outcome, event.timestamp) == ("ssh_login", "failure", NOW)


def test_lines_without_header_in_a_syslog_file_are_skipped() -> None:
    assert to_record("garbage without any header", SYSLOG, NOW) is None


def test_traditional_timestamps_from_last_december_read_in_january() -> None:
    january = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    record = to_record("Dec 31 23:59:00 web1 sshd[1]: x", SYSLOG, january)
    assert record is not None
    assert record.timestamp.astimezone().year == 2026
