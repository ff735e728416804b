"""sudo commands and su switches."""

from __future__ import annotations

import re

from agent.sensors.base import Observation
from agent.sensors.login.parsers.record import LogRecord, auth_observation

# "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id"
# "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id"
_SUDO = re.compile(
    r"^\s*(?P<user>\S+) : (?:(?P<problem>(?!TTY=|PWD=)[^;]*?) ; )?(?:TTY=(?P<tty>\S+) ; )?PWD=(?P<pwd>.*?) ; "
    r"USER=(?P<target>\S+) ;(?: GROUP=\S+ ;)?(?: TSID=\S+ ;)?(?: ENV=.*? ;)? COMMAND=(?P<command>.*)$"
)
# util-linux su: "(to root) alice on pts/0", "FAILED SU (to root) alice on pts/0"
_SU = re.compile(r"^(?P<failed>FAILED SU )?\(to (?P<target>[^)]+)\) (?P<user>\S+) on (?P<tty>\S+)$")


def parse_sudo(record: LogRecord) -> Observation | None:
    match = _SUDO.match(record.message)
    if match is None:
        return None
    return auth_observation(
        record,
        category="authentication",
        types=("start",),
        action="sudo",
        outcome="failure" if match["problem"] else "success",
        user=match["user"],
        target_user=match["target"],
        service="sudo",
        command_line=match["command"],
        working_directory=match["pwd"],
    )


def parse_su(record: LogRecord) -> Observation | None:
    match = _SU.match(record.message)
    if match is None:
        return None
    return auth_observation(
        record,
        category="authentication",
        types=("start",),
        action="su",
        outcome="failure" if match["failed"] else "success",
        user=match["user"],
        target_user=match["target"],
        service="su",
    )
