"""Process execs and exits from the kernel's proc connector, enriched from /proc.

Each exec gives ``process.*`` (executable, args, command line, working directory, start, user and group,
SHA-256 of the executable, parent pid/executable/command line) with a stable ``process.entity_id``
(hash of boot id, pid and start time); each exit gives ``end`` with ``process.exit_code``.

Privileges: root, or CAP_NET_ADMIN (proc connector), CAP_SYS_ADMIN (fanotify exec opens, the fallback
for processes that exit before /proc can be read), CAP_SYS_NICE (real-time priority of the listener),
CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (reading other users' /proc entries). Without the connector the
sensor polls and reports ``degraded``.

Modules: ``config``, ``connector`` (netlink wire format), ``procfs`` (reading /proc), ``fanotify``
(opening the exec-open group, in the agent), ``exec_opens`` (reading it, in the listener),
``snapshotter`` (events to snapshots), ``listener`` (the separate process), ``channel`` (its messages),
``receiver`` (the agent's side of it), ``poller`` (psutil fallback), ``identity`` (boot clock, entity
ids), ``exe_hash`` (cached hashes), ``accounts`` (names of ids), ``observation``, ``sensor``.
"""

from __future__ import annotations

import importlib

# Not from typing: the listener process imports this package, and typing costs it ~0.5 MiB of RSS
# (mypy knows the name TYPE_CHECKING).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from agent.config_types import ProcessConfig
    from agent.sensors.process.sensor import ProcessSensor

__all__ = ["ProcessConfig", "ProcessSensor"]

# Imported on first use, so the listener process (see ``receiver.listener_command``), which
# runs this package's __init__ too, loads neither pydantic nor the contract: ~24 MiB less RSS for it.
_LAZY = {"ProcessConfig": "agent.config_types", "ProcessSensor": "agent.sensors.process.sensor"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
