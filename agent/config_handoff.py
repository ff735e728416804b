"""Handing the configuration read before the malloc restart to the restarted agent, so that the
running agent never imports PyYAML, argparse nor psutil.

``canhgac-agent run`` restarts itself once (:func:`agent.memory.restart_with_system_malloc`). The process
before the restart parses the command line and reads the configuration file with its environment
overrides (the document, not yet validated), and the host's addresses (psutil), and leaves them in a
memory file (``memfd_create``) that
the ``exec`` keeps open; the restarted process, finding its descriptor in ``CANHGAC_AGENT_HANDOFF_FD``,
reads them back with ``marshal`` (built into the interpreter) and validates the document as it would
have validated the file's. PyYAML (~1.0 MiB of RSS in the idle agent: its modules and C extension)
argparse with gettext (~0.3 MiB) and psutil (~0.9 MiB) are then loaded only by the process that is
replaced.

Nothing changes in what is accepted or refused: the document is the one :func:`agent.config.read_document`
returns, and validation happens after the restart as before. When there is nothing to hand over (the
file cannot be read or parsed, or holds a YAML type ``marshal`` does not carry, such as a timestamp) or
no memory file can be made, the restarted process reads the file itself, with PyYAML, and asks psutil
for the addresses, as before.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

HANDOFF_ENV = "CANHGAC_AGENT_HANDOFF_FD"
_MEMFD_NAME = "canhgac-agent-config"


class Handoff(NamedTuple):
    """What the restarted agent is handed."""

    config_path: Path
    document: dict[str, Any]
    host_addresses: list[str]


def hand_over(config_path: Path) -> Mapping[str, str]:
    """Read ``config_path`` with the environment's overrides into a memory file the ``exec`` keeps;
    the environment variable naming it, or nothing when there is nothing to hand over."""
    from agent.config import ConfigError, read_document
    from agent.identity import host_addresses

    try:
        payload = marshal.dumps((str(config_path), read_document(config_path), host_addresses()))
    except (ConfigError, ValueError):  # ValueError: a value marshal does not carry
        return {}
    try:
        fd = os.memfd_create(_MEMFD_NAME, 0)  # not close-on-exec: the restarted agent reads it
    except (AttributeError, OSError):  # not Linux, or no memfd
        return {}
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]
    return {HANDOFF_ENV: str(fd)}


def take_over() -> Handoff | None:
    """In the restarted agent: what was handed over, or None if nothing was.
    The variable is removed and the memory file closed, so that neither reaches the agent's children."""
    value = os.environ.pop(HANDOFF_ENV, None)
    if value is None or not value.isdigit():
        return None
    fd = int(value)
    try:  # only the memory file hand_over made, never a descriptor a stray variable happens to name
        if os.readlink(f"/proc/self/fd/{fd}") != f"/memfd:{_MEMFD_NAME} (deleted)":
            return None
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        # Written by this very process before its exec; marshal, unlike pickle, runs no code on load.
        path, document, addresses = marshal.loads(os.pread(fd, size, 0))  # noqa: S302
    finally:
        os.close(fd)
    return Handoff(Path(path), document, addresses)
