"""Logins, sessions, sudo/su and account changes, from the auth logs (auth.log, secure).

Reports sshd logins (``ssh_login``, outcome success/failure, user, source address, ``canhgac.auth.method``),
invalid users, sudo and su (user and ``user.target``), PAM sessions (category session, start/end),
account and group creation, change and deletion (category iam). The raw line is always in ``message``;
lines of sshd, sudo, su, login and the account tools that no parser understands are still reported as
``<program>_message`` (type info) so keyword rules see them.

State: ``<state_dir>/login_positions.json`` (inode and offset per followed file). Rotation by rename and
by truncation are followed. A log without syslog headers (``sshd -E FILE``) is configured as a source
with ``program: sshd``.

Modules: ``config``, ``syslog_line`` (header), ``follower`` (reading), ``positions`` (persistence),
``parsers/`` (one module per family of programs), ``sensor``.
"""

from agent.config_types import AuthLogSource, LoginConfig
from agent.sensors.login.sensor import LoginSensor

__all__ = ["AuthLogSource", "LoginConfig", "LoginSensor"]
