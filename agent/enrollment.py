"""The agent's signing key: created once beside the agent id, registered with the SOC, used on every message.

``canhgac-agent enroll`` creates the key (if there is none) and prints what the SOC adds to the
collector's keyring: agent id, host name, key id and key. The agent also creates the key on its first run,
so an agent is never without one; until the SOC registers it, the collector flags its events as signed
with an unknown key. The key file is readable by the agent's user only (0600): whoever reads it can sign
as this agent (and only as this agent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.state_file import load_or_create
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
    key = decode_key(load_or_create(state_dir / KEY_FILE, lambda: encode_key(generate_key()), 0o600))
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
