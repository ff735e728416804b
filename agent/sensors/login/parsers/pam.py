"""pam_unix lines, whichever program logs them: sessions, authentication failures, password changes."""

from __future__ import annotations

import re

from agent.sensors.base import Observation
from agent.sensors.login.parsers.record import LogRecord, auth_observation

# "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)"
# "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)"
_SESSION = re.compile(
    r"^pam_unix\((?P<service>[^:]+):session\): session (?P<state>opened|closed) for user "
    r"(?P<user>[^\s(]+)(?:\(uid=(?P<uid>\d+)\))?(?: by (?P<by>[^\s(]*)(?:\(uid=(?P<by_uid>\d+)\))?)?\s*$"
)
# "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.5  user=bob"
_AUTH_FAILURE = re.compile(r"^pam_unix\((?P<service>[^:]+):auth\): authentication failure;(?P<pairs>.*)$")
# "pam_unix(passwd:chauthtok): password changed for bob"
_PASSWORD = re.compile(r"^pam_unix\((?P<service>[^:]+):chauthtok\): password changed for (?P<user>\S+)$")
_PAIR = re.compile(r"(\w+)=(\S*)")
_IPV4_OR_6 = re.compile(r"^[0-9A-Fa-f:.]+$")


def parse_pam(record: LogRecord) -> Observation | None:
    message = record.message
    if (match := _SESSION.match(message)) is not None:
        opened = match["state"] == "opened"
        by = match["by"] or None
        # "session for root by alice": alice acts, root is the target; "by (uid=0)" names nobody.
        return auth_observation(
            record,
            category="session",
            types=("start",) if opened else ("end",),
            action="session_open" if opened else "session_close",
            user=by or match["user"],
            user_id=match["by_uid"] if by else match["uid"],
            target_user=match["user"] if by else None,
            target_user_id=match["uid"] if by else None,
            service=match["service"],
        )
    if (match := _AUTH_FAILURE.match(message)) is not None:
        pairs = dict(_PAIR.findall(match["pairs"]))
        rhost = pairs.get("rhost") or None
        return auth_observation(
            record,
            category="authentication",
            types=("start",),
            action="pam_authentication_failure",
            outcome="failure",
            user=pairs.get("user") or pairs.get("ruser") or pairs.get("logname") or None,
            source_ip=rhost if rhost and _IPV4_OR_6.match(rhost) else None,
            service=match["service"],
        )
    if (match := _PASSWORD.match(message)) is not None:
        return auth_observation(
            record,
            category="iam",
            types=("user", "change"),
            action="password_change",
            outcome="success",
            target_user=match["user"],
            service=match["service"],
        )
    return None
