"""Auth log line parsers, one module per family of programs; :func:`parse_record` picks the parser."""

from __future__ import annotations

import re

from agent.sensors.base import Observation
from agent.sensors.login.parsers.accounts import ACCOUNT_PROGRAMS, parse_account
from agent.sensors.login.parsers.pam import parse_pam
from agent.sensors.login.parsers.record import LogRecord, auth_observation
from agent.sensors.login.parsers.sshd import parse_sshd
from agent.sensors.login.parsers.sudo_su import parse_su, parse_sudo

__all__ = ["LogRecord", "parse_record"]

_PAM_SERVICE = re.compile(r"^pam_unix\(([^:)]+)")
_AUTHENTICATION_PROGRAMS = frozenset({"sshd", "sshd-session", "sudo", "su", "login"})


def parse_record(
    record: LogRecord, *, ignored_pam_services: frozenset[str], report_unparsed: bool
) -> Observation | None:
    """The observation for one log line, or None when it is not about authentication or accounts.

    Lines of sshd, sudo, su, login and the account tools that no parser understands become
    ``<program>_message`` observations of type info (when ``report_unparsed``), carrying the raw line
    in ``message``: keyword rules still see them. Other programs' lines count only if they are pam_unix's.
    """
    program = record.program
    observation = None
    if (service := _PAM_SERVICE.match(record.message)) is not None:
        if service[1] in ignored_pam_services:
            return None
        observation = parse_pam(record)
    elif program in ("sshd", "sshd-session"):
        observation = parse_sshd(record)
    elif program == "sudo":
        observation = parse_sudo(record)
    elif program == "su":
        observation = parse_su(record)
    elif program in ACCOUNT_PROGRAMS:
        observation = parse_account(record)
    if observation is not None:
        return observation
    if not report_unparsed:
        return None
    if program in _AUTHENTICATION_PROGRAMS:
        category = "authentication"
    elif program in ACCOUNT_PROGRAMS:
        category = "iam"
    else:
        return None
    return auth_observation(record, category=category, types=("info",), action=f"{program}_message")
