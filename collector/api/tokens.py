"""API tokens: ``cg_<id>_<secret>``. Only the SHA-256 of the whole token is stored; the secret is shown
once, at creation. Verification compares hashes with :func:`hmac.compare_digest`."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collector.api.roles import AGENCY_BOUND, Role, scope
from collector.incidents.actor import Actor
from collector.incidents.audit import audit_entry
from collector.store import Store, VersionConflict

TOKEN_PATTERN = re.compile(r"^cg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


class TokenError(ValueError):
    """A token request that cannot be honoured, with the reason."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    secret: str
    record: Mapping[str, Any]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    store: Store, *, role: Role, agency: str | None, name: str, by: Actor, now: datetime
) -> IssuedToken:
    if role in AGENCY_BOUND and not agency:
        raise TokenError(f"a {role} token must name its agency")
    token_id = secrets.token_hex(8)
    secret = f"cg_{token_id}_{secrets.token_urlsafe(32)}"
    record = {
        "id": token_id,
        "name": name,
        "role": role.value,
        "agency": agency,
        "sha256": digest(secret),
        "created": now.isoformat(),
        "created_by": by.name,
        "revoked_at": None,
        "revoked_by": None,
    }
    await store.create_token(record)
    created = audit_entry(
        actor=by,
        action="token.created",
        object_type="token",
        object_id=token_id,
        agency=agency,
        at=now,
        to_value=role.value,
        reason=name,
    )
    await store.append_audit(created)
    return IssuedToken(secret, record)


async def revoke(store: Store, token_id: str, *, by: Actor, now: datetime) -> Mapping[str, Any]:
    for _ in range(5):
        current = await store.get_token(token_id)
        if current is None:
            raise TokenError(f"no token {token_id}")
        if current.source.get("revoked_at"):
            return current.source
        revoked = {**current.source, "revoked_at": now.isoformat(), "revoked_by": by.name}
        try:
            await store.replace_token(current, revoked)
        except VersionConflict:
            continue
        revocation = audit_entry(
            actor=by,
            action="token.revoked",
            object_type="token",
            object_id=token_id,
            agency=current.source.get("agency"),
            at=now,
            from_value="active",
            to_value="revoked",
        )
        await store.append_audit(revocation)
        return revoked
    raise TokenError(f"token {token_id} kept changing; try again")


async def verify(store: Store, presented: str) -> Actor | None:
    """The actor a bearer token stands for, or ``None`` (unknown, malformed, revoked: all look the same)."""
    match = TOKEN_PATTERN.match(presented)
    record = await store.get_token(match.group(1)) if match else None
    stored = str(record.source.get("sha256")) if record else _DUMMY_HASH
    # Hash and compare even when there is no record, so a miss costs what a hit costs.
    if not hmac.compare_digest(digest(presented), stored) or record is None:
        return None
    if record.source.get("revoked_at"):
        return None
    try:
        role = Role(str(record.source.get("role")))
    except ValueError:
        return None
    agency = record.source.get("agency")
    name = str(record.source.get("name") or record.id)
    return Actor(name=name, role=role.value, agencies=scope(role, agency))


def public_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """A token record without its hash."""
    return {key: value for key, value in record.items() if key != "sha256"}
