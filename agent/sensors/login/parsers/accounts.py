"""shadow-utils (useradd, groupadd, usermod, userdel, groupdel, gpasswd): account and group changes."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.sensors.base import Observation
from agent.sensors.login.parsers.record import LogRecord, auth_observation

ACCOUNT_PROGRAMS = frozenset(
    {"useradd", "groupadd", "usermod", "userdel", "groupdel", "groupmod", "gpasswd", "passwd", "chpasswd",
     "chage", "chfn", "chsh", "newusers", "adduser", "deluser", "addgroup", "delgroup"}
)  # fmt: skip

_Rule = tuple[re.Pattern[str], Callable[[LogRecord, re.Match[str]], Observation]]


def _user(action: str, types: tuple[str, ...]) -> Callable[[LogRecord, re.Match[str]], Observation]:
    def build(record: LogRecord, match: re.Match[str]) -> Observation:
        groups = match.groupdict()
        return auth_observation(
            record,
            category="iam",
            types=types,
            action=action,
            outcome="success",
            target_user=groups.get("user"),
            target_user_id=groups.get("uid"),
            group=groups.get("group"),
            group_id=groups.get("gid"),
        )

    return build


_RULES: tuple[_Rule, ...] = (
    # useradd: "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0"
    (
        re.compile(r"^new user: name=(?P<user>[^,]+), UID=(?P<uid>\d+), GID=(?P<gid>\d+)"),
        _user("user_creation", ("user", "creation")),
    ),
    # useradd/groupadd: "new group: name=devs, GID=1002" (the /etc/group and gshadow lines repeat it)
    (
        re.compile(r"^new group: name=(?P<group>[^,]+), GID=(?P<gid>\d+)"),
        _user("group_creation", ("group", "creation")),
    ),
    # usermod: "add 'bob' to group 'sudo'" (the "shadow group" line repeats it)
    (
        re.compile(r"^add '(?P<user>[^']+)' to group '(?P<group>[^']+)'$"),
        _user("user_added_to_group", ("group", "change")),
    ),
    # gpasswd: "user bob added by root to group devs"
    (
        re.compile(r"^user (?P<user>\S+) added by \S+ to group (?P<group>\S+)$"),
        _user("user_added_to_group", ("group", "change")),
    ),
    (
        re.compile(r"^user (?P<user>\S+) removed by \S+ from group (?P<group>\S+)$"),
        _user("user_removed_from_group", ("group", "change")),
    ),
    # usermod: "change user 'bob' shell from '/bin/bash' to '/bin/sh'", "lock user 'bob' password"
    (
        re.compile(r"^(?:change|lock|unlock) user '(?P<user>[^']+)'"),
        _user("user_change", ("user", "change")),
    ),
    # userdel: "delete user 'bob'"; "removed group 'bob' owned by 'bob'"; groupdel: "group 'devs' removed"
    (re.compile(r"^delete user '(?P<user>[^']+)'$"), _user("user_deletion", ("user", "deletion"))),
    (
        re.compile(r"^removed group '(?P<group>[^']+)' owned by"),
        _user("group_deletion", ("group", "deletion")),
    ),
    (re.compile(r"^group '(?P<group>[^']+)' removed$"), _user("group_deletion", ("group", "deletion"))),
    # passwd without PAM's line: "password for 'bob' changed by 'root'"
    (
        re.compile(r"^password for '(?P<user>[^']+)' changed by '[^']+'$"),
        _user("password_change", ("user", "change")),
    ),
)


def parse_account(record: LogRecord) -> Observation | None:
    for pattern, build in _RULES:
        match = pattern.match(record.message)
        if match is not None:
            return build(record, match)
    return None
