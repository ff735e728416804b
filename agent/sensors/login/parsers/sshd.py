"""sshd: accepted and failed logins, invalid users."""

from __future__ import annotations

import re

from agent.sensors.base import Observation
from agent.sensors.login.parsers.record import LogRecord, auth_observation

_ADDRESS = r"(?P<ip>[0-9A-Fa-f:.]+) port (?P<port>\d+)"
_LOGIN = re.compile(
    rf"^(?P<result>Accepted|Failed) (?P<method>[\w/-]+) for (?P<invalid>invalid user )?(?P<user>.*?) "
    rf"from {_ADDRESS}(?: ssh2)?(?:: .*)?$"
)
_INVALID_USER = re.compile(rf"^Invalid user (?P<user>.*?) from {_ADDRESS}$")
_TOO_MANY = re.compile(
    rf"^error: maximum authentication attempts exceeded for (?P<invalid>invalid user )?(?P<user>.*?) "
    rf"from {_ADDRESS} ssh2 \[preauth\]$"
)


def parse_sshd(record: LogRecord) -> Observation | None:
    if (match := _LOGIN.match(record.message)) is not None:
        return auth_observation(
            record,
            category="authentication",
            types=("start",),
            action="ssh_login",
            outcome="success" if match["result"] == "Accepted" else "failure",
            user=match["user"],
            source_ip=match["ip"],
            source_port=int(match["port"]),
            method=match["method"],
            service="sshd",
        )
    if (match := _INVALID_USER.match(record.message)) is not None:
        return auth_observation(
            record,
            category="authentication",
            types=("info",),
            action="ssh_invalid_user",
            outcome="failure",
            user=match["user"],
            source_ip=match["ip"],
            source_port=int(match["port"]),
            service="sshd",
        )
    if (match := _TOO_MANY.match(record.message)) is not None:
        return auth_observation(
            record,
            category="authentication",
            types=("info",),
            action="ssh_max_auth_tries",
            outcome="failure",
            user=match["user"],
            source_ip=match["ip"],
            source_port=int(match["port"]),
            service="sshd",
        )
    return None
