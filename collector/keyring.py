"""The keyring: which signing key belongs to which enrolled agent and host.

A YAML file (``origin.keyring`` in the collector settings), one entry per agent as ``canhgac-agent
enroll`` prints it::

    agents:
      - agent_id: 0b6c…            # the agent's persistent id
        host_names: [web01]        # host.name values the agent may claim
        host_ids: [4f1e…]          # optional: host.id values it may claim (all if omitted)
        key_id: k1-…               # derived from the key; a mismatch is refused
        key: 64 hex digits         # or key_file: path (relative to the keyring's directory)

Reloaded with the rules on SIGHUP; a keyring that does not load keeps the previous one. Errors name the
file and the entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from event_contract.signing import KeyFormatError, decode_key, key_id


class KeyringError(ValueError):
    """The keyring file cannot be used; the message names the file and the offending entry."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: Annotated[str, Field(min_length=1)]
    host_names: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    host_ids: list[Annotated[str, Field(min_length=1)]] | None = None
    key_id: Annotated[str, Field(min_length=1)]
    key: str | None = None
    key_file: Path | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: list[_Entry] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One enrolled agent: the key it signs with and the identities it may claim."""

    agent_id: str
    host_names: frozenset[str]
    host_ids: frozenset[str] | None
    key_id: str
    key: bytes = field(repr=False)  # never shown in a log or traceback


@dataclass(frozen=True, slots=True)
class Keyring:
    by_key_id: dict[str, Enrollment]

    def __len__(self) -> int:
        return len(self.by_key_id)

    def get(self, kid: str) -> Enrollment | None:
        return self.by_key_id.get(kid)


def load_keyring(path: Path) -> Keyring:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise KeyringError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise KeyringError(f"{path}: not valid YAML: {error}") from None
    try:
        parsed = _File.model_validate(document)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()]
        raise KeyringError(f"{path}: " + "; ".join(problems[:5])) from None
    entries: dict[str, Enrollment] = {}
    agents: set[str] = set()
    for index, entry in enumerate(parsed.agents):
        where = f"{path}: agents.{index} (agent {entry.agent_id})"
        key = _key_of(entry, path.parent, where)
        if key_id(key) != entry.key_id:
            raise KeyringError(f"{where}: key_id {entry.key_id} is not the id of this key")
        if entry.key_id in entries:
            raise KeyringError(f"{where}: key_id {entry.key_id} is enrolled twice")
        if entry.agent_id in agents:
            # One key per agent: an agent with two keys would make a stolen old key impossible to revoke
            # by mistake; re-enrolling replaces the entry.
            raise KeyringError(f"{where}: agent {entry.agent_id} is enrolled twice")
        agents.add(entry.agent_id)
        entries[entry.key_id] = Enrollment(
            entry.agent_id,
            frozenset(entry.host_names),
            frozenset(entry.host_ids) if entry.host_ids is not None else None,
            entry.key_id,
            key,
        )
    return Keyring(entries)


def _key_of(entry: _Entry, base: Path, where: str) -> bytes:
    if (entry.key is None) == (entry.key_file is None):
        raise KeyringError(f"{where}: give exactly one of key and key_file")
    text = entry.key
    if entry.key_file is not None:
        key_path = entry.key_file if entry.key_file.is_absolute() else base / entry.key_file
        try:
            text = key_path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise KeyringError(f"{where}: cannot read key_file {key_path}: {error}") from None
    assert text is not None
    try:
        return decode_key(text)
    except KeyFormatError as error:
        raise KeyringError(f"{where}: {error}") from None
