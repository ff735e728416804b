"""The agent's signing key: created once beside the agent id, registered with the SOC, used on every message.

``canhgac-agent enroll`` creates the key (if there is none) and prints what the SOC adds to the
collector's keyring: agent id, host name, key id and key. The agent also creates the key on its first run,
so an agent is never without one; until the SOC registers it, the collector flags its events as signed
with an unknown key. The key file is readable by the agent's user only (0600): whoever reads it can sign
as this agent (and only as this agent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from event_contract.signing import decode_key, encode_key, generate_key, key_id, signature_headers

KEY_FILE = "agent_key"


@dataclass(frozen=True, slots=True)
class SigningKey:
    key_id: str
    key: bytes = field(repr=False)

    def headers(self, value: bytes) -> list[tuple[str, bytes]]:
        return signature_headers(self.key, self.key_id, value)


def load_or_create_key(state_dir: Path) -> SigningKey:
    """The key stored in ``state_dir``, created on first call (0600, written atomically with fsync)."""
    path = state_dir / KEY_FILE
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        key = decode_key(existing)
        return SigningKey(key_id(key), key)
    state_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode is masked by the umask; this is not
        handle.write(encode_key(key) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    return SigningKey(key_id(key), key)


def registration(agent_id: str, host_name: str, host_id: str, signing_key: SigningKey) -> dict[str, object]:
    """One entry of the collector's keyring (``agents:`` list), as the SOC pastes it."""
    return {
        "agent_id": agent_id,
        "host_names": [host_name],
        "host_ids": [host_id],
        "key_id": signing_key.key_id,
        "key": encode_key(signing_key.key),
    }
