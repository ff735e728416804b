"""Who is sending: the agent's persistent id and what it detects about the host.

The agent id is created once (uuid4) and kept in the state directory, so it survives restarts and
upgrades and changes only when the state directory is wiped. The host id is the systemd machine id when
there is one (stable across reinstalls of the agent), else the agent id.
"""

from __future__ import annotations

import platform
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import msgspec

from agent.config import AgentConfig
from agent.state_file import load_or_create
from agent.version import AGENT_VERSION
from event_contract.wire_types import AgentInfoWire as AgentInfo
from event_contract.wire_types import HostInfoWire as HostInfo
from event_contract.wire_types import InformationSystemWire as InformationSystem
from event_contract.wire_types import OrganizationWire as Organization
from event_contract.wire_types import OsInfoWire as OsInfo

_Group = TypeVar("_Group", AgentInfo, HostInfo, Organization, InformationSystem)

AGENT_ID_FILE = "agent_id"
MACHINE_ID_PATHS = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
OS_RELEASE_PATHS = (Path("/etc/os-release"), Path("/usr/lib/os-release"))


@dataclass(frozen=True, slots=True)
class Identity:
    """Everything the runtime stamps on each event besides the event's own fields."""

    host: HostInfo
    agent: AgentInfo
    organization: Organization
    system: InformationSystem


def load_agent_id(state_dir: Path) -> str:
    """The agent id stored in ``state_dir``, created on first call (written atomically with fsync)."""
    return load_or_create(state_dir / AGENT_ID_FILE, lambda: str(uuid.uuid4()))


def detect_identity(config: AgentConfig, addresses: Sequence[str] | None = None) -> Identity:
    """The identity stamped on events; ``addresses`` are the host's (:func:`host_addresses`) when the
    caller already has them, as the agent restarted on the system malloc has (``agent.config_handoff``)."""
    agent_id = load_agent_id(config.state_dir)
    hostname = socket.gethostname()
    host = HostInfo(
        id=config.host.id or _machine_id() or agent_id,
        name=config.host.name or hostname,
        hostname=hostname,
        ip=list(host_addresses() if addresses is None else addresses),
        architecture=platform.machine() or None,
        os=_os_info(),
    )
    return Identity(
        host=_checked(host),
        agent=_checked(AgentInfo(id=agent_id, version=AGENT_VERSION, name=host.name)),
        organization=_checked(Organization(id=config.organization.id, name=config.organization.name)),
        system=_checked(
            InformationSystem(
                id=config.system.id, name=config.system.name, security_level=config.system.security_level
            )
        ),
    )


def _checked(value: _Group) -> _Group:
    """``value`` if it is valid per the contract (msgspec.ValidationError naming the field if not): a
    Struct does not validate when constructed, and the identity goes into every event."""
    checked: _Group = msgspec.convert(msgspec.to_builtins(value), type(value))
    return checked


def _machine_id() -> str | None:
    for path in MACHINE_ID_PATHS:
        try:
            value = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if value:
            return value
    return None


def host_addresses() -> list[str]:
    """Every non-loopback IPv4/IPv6 address; link-local IPv6 keeps no zone suffix."""
    # psutil stays resident once imported (~0.9 MiB): the agent restarted on the system malloc is handed
    # these addresses by the process before it, which had psutil loaded anyway.
    import psutil

    found: list[str] = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = address.address.split("%", 1)[0]
            if ip.startswith("127.") or ip == "::1" or ip in found:
                continue
            found.append(ip)
    return found


def _os_info() -> OsInfo:
    release = _os_release()
    return OsInfo(
        type=platform.system().lower() or None,
        family=(release.get("ID_LIKE") or release.get("ID") or "").split(" ")[0] or None,
        name=release.get("NAME"),
        version=release.get("VERSION_ID"),
        kernel=platform.release() or None,
    )


def _os_release() -> dict[str, str]:
    for path in OS_RELEASE_PATHS:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        values = {}
        for line in lines:
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip().strip('"')
        return values
    return {}
