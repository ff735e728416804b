"""Splitting a syslog-formatted line into time, host, program, pid and message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# "Nov 22 14:12:36 web1 sshd[811]: ..." (RFC 3164, rsyslog's traditional format, local time)
_TRADITIONAL = re.compile(
    r"^(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<program>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)$"
)
# "2026-11-22T14:12:36.123456+07:00 web1 sshd[811]: ..." (RFC 3339: Debian 12+ rsyslog, journald export)
_ISO = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?P<host>\S+) "
    r"(?P<program>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)$"
)


@dataclass(frozen=True, slots=True)
class SyslogLine:
    timestamp: datetime
    host: str | None
    program: str
    pid: int | None
    message: str


def _traditional_time(text: str, now: datetime) -> datetime:
    """The year is not in the line: take the one that puts the time nearest before now (a line from
    Dec 31 read on Jan 1 belongs to last year)."""
    local_now = now.astimezone()
    parsed = datetime.strptime(f"{local_now.year} {text}", "%Y %b %d %H:%M:%S")
    stamp = parsed.replace(tzinfo=local_now.tzinfo)
    if stamp - local_now > timedelta(days=1):
        stamp = stamp.replace(year=stamp.year - 1)
    return stamp.astimezone(UTC)


def parse_syslog_line(line: str, now: datetime) -> SyslogLine | None:
    """None when the line has no syslog header."""
    match = _TRADITIONAL.match(line)
    if match is not None:
        try:
            timestamp = _traditional_time(match["time"], now)
        except ValueError:
            return None
    else:
        match = _ISO.match(line)
        if match is None:
            return None
        try:
            timestamp = datetime.fromisoformat(match["time"].replace(" ", "T"))
        except ValueError:
            return None
        if timestamp.tzinfo is None:
            timestamp = timestamp.astimezone()
        timestamp = timestamp.astimezone(UTC)
    pid = int(match["pid"]) if match["pid"] else None
    return SyslogLine(timestamp, match["host"], match["program"], pid, match["message"])
